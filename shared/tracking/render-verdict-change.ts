import type { FindingRef, VerdictCause, VerdictDiff, VerdictRecord } from "../model/messages.js";
import { cell } from "./render-issue.js";

/** Entries shown per list; the rest are counted. */
const MAX_ENTRIES = 20;
/** The section's size, whatever the names in it: a comment must stay far inside GitHub's body limit. */
const BUDGET = 16_000;
/** Each list's share, so one list of long names never crowds the others out. */
const LIST_BUDGET = 2_000;
/** Characters kept of an id, a package name or a version before escaping. */
const NAME_LENGTH = 100;

const CAUSES: Record<VerdictCause, string> = {
  push: "the image was scanned again",
  "db-update": "the vulnerability database changed",
  scheduled: "the scheduled rescan of images still in use",
  historical: "a historical rescan",
  "analyzer-upgrade": "an analyzer upgrade",
  command: "a `/portcullis rescan` (or a risk accepted or unaccepted from GitHub)",
};

/**
 * "What changed in this rescan": the verdict record's cause and its diff from the previous verdict of
 * the same digest (new, fixed, severity and tier changes, accepted, expired), for the change comment.
 * Undefined when there is no diff (a first verdict) or it names nothing.
 */
export function renderVerdictChange(
  record: VerdictRecord | undefined,
  image: { platform: string; digest: string },
): string | undefined {
  const diff = record?.diff;
  if (!record || !diff || isEmpty(diff)) return undefined;
  const out = new SectionWriter(BUDGET);
  out.push(record.cause === "push" ? "#### What changed in this scan" : "#### What changed in this rescan");
  const previous = record.previous
    ? `, compared with the verdict of ${cell(record.previous.at)} (${cell(record.previous.cause)})`
    : "";
  out.push(
    `Cause: ${CAUSES[record.cause]} — ${cell(image.platform)} \`${cell(image.digest)}\`, DB ${cell(record.dbVersion)}${previous}.`,
  );
  if (diff.decision) out.push(`- Verdict: **${cell(diff.decision.from)}** → **${cell(diff.decision.to)}**`);
  out.list("New", diff.new, ref);
  out.list("Fixed", diff.fixed, ref);
  out.list("Severity changed", diff.severity, (c) => `${ref(c)}: ${c.from} → ${c.to}`);
  out.list("Tier changed", diff.tier, (c) => `${ref(c)}: ${c.from} → ${c.to}`);
  out.list("Accepted (suppressed now)", diff.accepted, ref);
  out.list("Acceptance expired (counted again)", diff.expired, ref);
  out.push(`- Unchanged: ${diff.unchanged}`);
  if (diff.truncated) out.push("The lists were cut short; the image API has the full verdict record.");
  return out.text();
}

function isEmpty(diff: VerdictDiff): boolean {
  return (
    !diff.decision &&
    [diff.new, diff.fixed, diff.severity, diff.tier, diff.accepted, diff.expired].every((l) => l.length === 0)
  );
}

const short = (text: string) => cell([...text].slice(0, NAME_LENGTH).join(""));
const ref = (f: FindingRef) => `\`${short(f.id)}\` in ${short(f.package)} ${short(f.version)}`;

/** Lines up to a budget; entries that do not fit are counted as "and N more". */
class SectionWriter {
  private readonly lines: string[] = [];
  private length = 0;

  constructor(private readonly budget: number) {}

  push(line: string): void {
    if (this.length + line.length + 1 > this.budget) return;
    this.lines.push(line);
    this.length += line.length + 1;
  }

  list<T>(title: string, items: readonly T[], show: (item: T) => string): void {
    if (items.length === 0) return;
    const shown: string[] = [];
    let used = title.length + 16;
    for (const item of items.slice(0, MAX_ENTRIES)) {
      const text = show(item);
      if (used + text.length + 2 > LIST_BUDGET) break;
      shown.push(text);
      used += text.length + 2;
    }
    const more = items.length - shown.length;
    const listed =
      shown.length > 0 ? `${shown.join(", ")}${more > 0 ? ` and ${more} more` : ""}` : `${more} not shown`;
    this.push(`- ${title} (${items.length}): ${listed}`);
  }

  text(): string {
    return this.lines.join("\n");
  }
}
