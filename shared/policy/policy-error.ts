import { ScanError } from "../model/errors.js";

/** One problem in a policy or VEX file, located as precisely as the input allows. */
export interface PolicyIssue {
  /** `rules[0].severity`, or "" for the document itself */
  path: string;
  line?: number;
  column?: number;
  message: string;
}

/**
 * A policy or VEX file the scan cannot use. Permanent: rescanning with the same file cannot help,
 * so the message names the file, the key and the line.
 */
export class PolicyError extends ScanError {
  readonly source: string;
  readonly issues: readonly PolicyIssue[];
  constructor(code: "policy-invalid" | "vex-invalid", source: string, issues: readonly PolicyIssue[]) {
    const first = issues[0];
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : "";
    super(code, first === undefined ? `${source}: invalid` : `${describeIssue(source, first)}${more}`);
    this.name = "PolicyError";
    this.source = source;
    this.issues = issues;
  }
}

/** `portcullis.yaml:4:3: rules[0].severity: …` */
export function describeIssue(source: string, issue: PolicyIssue): string {
  const where = issue.line === undefined ? source : `${source}:${issue.line}:${issue.column ?? 1}`;
  return issue.path === "" ? `${where}: ${issue.message}` : `${where}: ${issue.path}: ${issue.message}`;
}

/** A zod path as a user writes it: `rules[0].severity`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out === "" ? String(part) : `.${String(part)}`;
  }
  return out;
}
