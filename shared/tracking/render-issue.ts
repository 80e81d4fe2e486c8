import type { Verdict } from "../model/report.js";
import type { Tier } from "../model/tier.js";
import type { RemediationAction } from "../model/remediation-action.js";
import { type ImageStream, streamMarker } from "./image-stream.js";
import {
  activeFindings,
  bySeverity,
  highestSeverity,
  meetsThreshold,
  type TrackedFinding,
} from "./tracked-findings.js";

/** GitHub refuses an issue body longer than this many characters. */
export const GITHUB_BODY_LIMIT = 65_536;
/** Room kept for the "and N more" line and the sections after the finding lists. */
const TAIL_RESERVE = 6_000;

export const TRACKING_LABEL = "portcullis";
export const BASE_LABELS = [TRACKING_LABEL, "security"] as const;

/** One platform image the stream currently points at. */
export interface StreamImage {
  platform: string;
  ref: string;
  digest: string;
  tags: readonly string[];
  verdict: Verdict;
}

export interface IssueInput {
  stream: ImageStream;
  images: readonly StreamImage[];
  findings: readonly TrackedFinding[];
  /** remediation actions over the findings (planRemediation), most urgent first */
  actions: readonly RemediationAction[];
  threshold: Tier;
  /** finding key → the date it was first seen in this stream (YYYY-MM-DD) */
  firstSeen: Readonly<Record<string, string>>;
  /** the mapping's extra labels */
  labels?: readonly string[];
  reportUrl?: string;
  /** what could not be read (a report blob missing, …): said in the body, never hidden */
  problems?: readonly string[];
}

export interface RenderedIssue {
  title: string;
  body: string;
  labels: string[];
  /** keys of the findings that keep the issue open */
  active: string[];
}

/** The stable title of a stream's issue: it names the stream, never a digest or a count. */
export function issueTitle(stream: ImageStream): string {
  return `Vulnerable image: ${stream.registry}/${stream.repository}${stream.name ? ` (${stream.name})` : ""}`;
}

/** Labels: portcullis, security, the highest severity among the findings that keep it open, the mapping's. */
export function issueLabels(active: readonly TrackedFinding[], extra: readonly string[] = []): string[] {
  const top = highestSeverity(active);
  return [...new Set([...BASE_LABELS, ...(top ? [`severity:${top}`] : []), ...extra])];
}

/** Title, labels and body of a stream's issue; the body stays under GitHub's limit whatever the findings. */
export function renderIssue(input: IssueInput): RenderedIssue {
  const active = activeFindings(input.findings, input.threshold);
  const out = new BodyWriter(GITHUB_BODY_LIMIT - TAIL_RESERVE);
  out.line(streamMarker(input.stream.key));
  out.line(
    active.length === 0
      ? `No findings at or above the \`${input.threshold}\` tier remain in ${cell(input.stream.key)}.`
      : `${active.length} finding${active.length === 1 ? "" : "s"} at or above the \`${input.threshold}\` tier in ${cell(input.stream.key)}.`,
  );
  out.line("");
  out.line("| platform | image | digest | verdict |");
  out.line("|---|---|---|---|");
  for (const image of input.images)
    out.line(
      `| ${cell(image.platform)} | ${cell(image.ref)}${image.tags.length ? ` (${image.tags.map(cell).join(", ")})` : ""} | \`${cell(image.digest)}\` | **${image.verdict.decision}** |`,
    );
  const reasons = [...new Set(input.images.flatMap((i) => i.verdict.reasons))];
  if (reasons.length > 0) {
    out.line("");
    out.line("Verdict reasons:");
    for (const reason of reasons.slice(0, 10)) out.line(`- ${cell(reason)}`);
    if (reasons.length > 10) out.line(`- …and ${reasons.length - 10} more`);
  }
  for (const problem of input.problems ?? []) out.line(`\n> [!WARNING]\n> ${cell(problem)}`);

  const listed = new Set<string>();
  const byId = new Map<string, TrackedFinding[]>();
  for (const f of active) byId.set(f.finding.id, [...(byId.get(f.finding.id) ?? []), f]);
  for (const action of input.actions) {
    // within an action, by severity (the action's own list is in its packages' order)
    const members = [...new Set(action.findingIds)]
      .flatMap((id) => byId.get(id) ?? [])
      .filter((f) => !listed.has(f.key))
      .sort(bySeverity);
    if (members.length === 0) continue;
    out.line("");
    out.line(`### ${cell(action.title)}`);
    if (action.command) out.fence(action.command);
    findingTable(out, members, input.firstSeen);
    for (const f of members) listed.add(f.key);
  }
  const rest = active.filter((f) => !listed.has(f.key));
  if (rest.length > 0) {
    out.line("");
    out.line(rest.some((f) => f.finding.fixedVersion) ? "### Other findings" : "### No fix available yet");
    findingTable(out, rest, input.firstSeen);
  }

  const suppressed = input.findings.filter(
    (f) => f.finding.suppressed && meetsThreshold(f.finding.tier, input.threshold),
  );
  if (suppressed.length > 0) {
    out.line("");
    out.line("### Accepted or suppressed");
    out.line("| vulnerability | package | kind | reason | expires |");
    out.line("|---|---|---|---|---|");
    for (const f of suppressed) {
      const s = f.finding.suppressed!;
      out.row(
        `| ${idCell(f)} | ${cell(f.finding.package.name)} | ${s.kind} | ${cell(s.reason)} | ${s.expires ? cell(s.expires) : "—"} |`,
      );
    }
  }

  const body = out.finish(input.reportUrl);
  return {
    title: issueTitle(input.stream),
    body,
    labels: issueLabels(active, input.labels),
    active: active.map((f) => f.key).sort(),
  };
}

function findingTable(
  out: BodyWriter,
  findings: readonly TrackedFinding[],
  firstSeen: IssueInput["firstSeen"],
) {
  out.line("| severity | vulnerability | package | installed | fixed in | first seen |");
  out.line("|---|---|---|---|---|---|");
  for (const f of findings)
    out.row(
      `| ${f.finding.severity} | ${idCell(f)} | ${cell(f.finding.package.name)} | ${cell(f.finding.package.version)} | ${f.finding.fixedVersion ? cell(f.finding.fixedVersion) : "—"} | ${firstSeen[f.key] ?? "—"} |`,
    );
}

const idCell = (f: TrackedFinding) => cell(f.finding.id);

/**
 * Text from an image or a feed, made inert in a Markdown table cell: no pipes, no HTML, no
 * @-mentions or #-references that would notify people, no line breaks, bounded length.
 */
export function cell(text: string): string {
  const flat = [...text.replace(/[\u0000-\u001f\u007f]+/g, " ")].slice(0, 300).join("");
  // one pass: an entity written for one character is never escaped again by the next rule
  return flat.replace(/[&<>|@#`\\*_[\]]/g, (c) => ESCAPES[c] ?? c);
}

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  "|": "&#124;",
  "@": "&#64;",
  "#": "&#35;",
  "`": "&#96;",
  "\\": "\\\\",
  "*": "\\*",
  _: "\\_",
  "[": "\\[",
  "]": "\\]",
};

/** Appends lines until the budget is spent; finding rows past it are counted, not written. */
class BodyWriter {
  private readonly parts: string[] = [];
  private length = 0;
  private cut = 0;

  constructor(private readonly budget: number) {}

  line(text: string): void {
    if (this.length + text.length + 1 > this.budget) return;
    this.parts.push(text);
    this.length += text.length + 1;
  }

  /** A finding row: once the budget is spent, rows are only counted for "and N more". */
  row(text: string): void {
    if (this.cut > 0 || this.length + text.length + 1 > this.budget) {
      this.cut++;
      return;
    }
    this.line(text);
  }

  fence(command: string): void {
    const bounded = command.length > 2_000 ? `${command.slice(0, 2_000)} …` : command;
    this.line(`\`\`\`sh\n${bounded.replace(/```/g, "'''")}\n\`\`\``);
  }

  finish(reportUrl: string | undefined): string {
    const tail: string[] = [""];
    if (this.cut > 0)
      tail.push(
        `…and ${this.cut} more finding${this.cut === 1 ? "" : "s"} not shown here${reportUrl ? `: see the [full report](${reportUrl})` : " (the full list is in the report)"}.`,
      );
    else if (reportUrl) tail.push(`[Full report](${reportUrl})`);
    tail.push(
      "",
      "<sub>Kept up to date by portcullis. Comment `/portcullis rescan`, `/portcullis accept <id> [until YYYY-MM-DD] [reason]` or `/portcullis unaccept <id>`.</sub>",
    );
    return [...this.parts, ...tail].join("\n");
  }
}
