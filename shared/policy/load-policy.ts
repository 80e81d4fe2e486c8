import { readFile, stat } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { type Document, isMap, isNode, isPair, isScalar, LineCounter, parseDocument } from "yaml";
import type { z } from "zod";
import { LimitsSchema } from "../model/limits.js";
import { AcceptedRiskSchema, type Policy, PolicyRuleSchema, PolicySchema } from "./policy.js";
import { formatPath, PolicyError, type PolicyIssue } from "./policy-error.js";

/** A policy is a page of rules, not data: anything bigger is a mistake or an attack. */
export const MAX_POLICY_BYTES = 1024 * 1024;
/** Anchors are handy for shared rule lists; thousands of them are a "billion laughs" bomb. */
export const MAX_POLICY_ALIASES = 100;
export const POLICY_FILE_NAMES = ["portcullis.yaml", "portcullis.yml"] as const;

export interface LoadedPolicy {
  policy: Policy;
  /** the file it came from; undefined for the built-in default */
  source: string | undefined;
  /** where relative paths in the policy (`vex`) are resolved */
  baseDir: string;
}

/** Parses and validates a policy document; every error names the key and its line. */
export function parsePolicy(text: string, source = "portcullis.yaml"): Policy {
  if (Buffer.byteLength(text, "utf8") > MAX_POLICY_BYTES) {
    throw new PolicyError("policy-invalid", source, [
      { path: "", message: `larger than the ${MAX_POLICY_BYTES} byte limit for a policy file` },
    ]);
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new PolicyError(
      "policy-invalid",
      source,
      doc.errors.map((e) => ({
        path: "",
        ...position(lineCounter, e.pos[0]),
        message: `invalid YAML: ${e.message.split("\n")[0]}`,
      })),
    );
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_POLICY_ALIASES });
  } catch (err) {
    throw new PolicyError("policy-invalid", source, [{ path: "", message: (err as Error).message }]);
  }
  // an empty file is the default policy, as an absent one is
  const parsed = PolicySchema.safeParse(data ?? {});
  if (parsed.success) return parsed.data;
  throw new PolicyError(
    "policy-invalid",
    source,
    parsed.error.issues.flatMap((issue) => locateIssue(doc, lineCounter, issue)),
  );
}

/** Reads one policy file, refusing oversized ones before reading them. */
export async function loadPolicyFile(path: string): Promise<LoadedPolicy> {
  const info = await stat(path);
  if (info.size > MAX_POLICY_BYTES) {
    throw new PolicyError("policy-invalid", path, [
      {
        path: "",
        message: `${info.size} bytes, larger than the ${MAX_POLICY_BYTES} byte limit for a policy file`,
      },
    ]);
  }
  const policy = parsePolicy(await readFile(path, "utf8"), path);
  const baseDir = dirname(resolve(path));
  // YARA rule directories are read when the analyzers are built, maybe elsewhere: resolve them here
  const yaraRules = policy.content.yaraRules.map((dir) => resolve(baseDir, dir));
  return { policy: { ...policy, content: { ...policy.content, yaraRules } }, source: path, baseDir };
}

/**
 * The policy a scan runs: the file named (which must exist), else `portcullis.yaml` in `cwd`
 * when there is one, else the built-in default.
 */
export async function loadPolicy(options: { path?: string; cwd?: string } = {}): Promise<LoadedPolicy> {
  const cwd = options.cwd ?? process.cwd();
  if (options.path !== undefined) return loadPolicyFile(resolve(cwd, options.path));
  for (const name of POLICY_FILE_NAMES) {
    const candidate = resolve(cwd, name);
    if (await isFile(candidate)) return loadPolicyFile(candidate);
  }
  return { policy: PolicySchema.parse({}), source: undefined, baseDir: cwd };
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

function position(lineCounter: LineCounter, offset: number | undefined): { line?: number; column?: number } {
  if (offset === undefined) return {};
  const { line, col } = lineCounter.linePos(offset);
  return { line, column: col };
}

/** Every key the policy format knows, for "did you mean" on a misspelt one. */
const KNOWN_KEYS = [
  ...Object.keys(PolicySchema.shape),
  ...Object.keys(PolicyRuleSchema.shape),
  ...Object.keys(AcceptedRiskSchema.shape),
  ...Object.keys(LimitsSchema.shape),
  "checks",
  "tiers",
  "accountPolicy",
  "minPasswordLength",
  "passwordHistory",
  "maxPasswordAgeDays",
  "lockoutThreshold",
];

function locateIssue(doc: Document, lineCounter: LineCounter, issue: z.core.$ZodIssue): PolicyIssue[] {
  const path = issue.path;
  if (issue.code === "unrecognized_keys") {
    const map = doc.getIn(path, true);
    return issue.keys.map((key) => {
      const pair = isMap(map)
        ? map.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === key)
        : undefined;
      const keyNode = pair !== undefined && isNode(pair.key) ? pair.key : undefined;
      const hint = suggest(key);
      return {
        path: formatPath([...path, key]),
        ...position(lineCounter, keyNode?.range?.[0]),
        message: `unknown key "${key}"${hint === undefined ? "" : ` (did you mean "${hint}"?)`}`,
      };
    });
  }
  // a missing key has no node: point at the nearest enclosing one that exists
  let node: unknown;
  let depth = path.length;
  for (; depth >= 0; depth--) {
    node = depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth), true);
    if (isNode(node)) break;
  }
  const missing = depth < path.length && depth === path.length - 1;
  return [
    {
      path: formatPath(path),
      ...position(lineCounter, isNode(node) ? node.range?.[0] : undefined),
      message: missing ? `required but missing (${issue.message})` : issue.message,
    },
  ];
}

function suggest(key: string): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const known of KNOWN_KEYS) {
    const d = editDistance(key.toLowerCase(), known.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [known, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 3) return Number.POSITIVE_INFINITY;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length]!;
}
