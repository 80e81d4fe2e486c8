import { z } from "zod";
import type { Severity } from "../../model/report.js";

/**
 * The Debian security tracker's JSON (`https://security-tracker.debian.org/tracker/data/json`):
 * `{ <source package>: { <CVE or TEMP id>: { releases: { <codename>: { status, urgency,
 * fixed_version?, nodsa? } }, scope?, description? } } }`. Only `releases[].urgency` is read.
 */
const ReleaseSchema = z.object({ urgency: z.string().max(64).optional() });
export const TrackerIssueSchema = z.object({ releases: z.record(z.string(), z.unknown()) });

/** The JSONPath of one issue of one package: the keys that lead to it are the package and the id. */
export const TRACKER_ISSUES_PATH = "$.*.*";

/** Debian release codenames as OSV numbers them (`Debian:12`); sid has no number, so no findings. */
export const DEBIAN_RELEASES: ReadonlyMap<string, string> = new Map([
  ["wheezy", "7"],
  ["jessie", "8"],
  ["stretch", "9"],
  ["buster", "10"],
  ["bullseye", "11"],
  ["bookworm", "12"],
  ["trixie", "13"],
  ["forky", "14"],
  ["duke", "15"],
]);

/**
 * The tracker's urgency as a severity (docs/policy.md). `unimportant` is the tracker saying the
 * issue does not warrant a fix in a stable release: low. "not yet assigned" and `end-of-life` rate
 * nothing. A trailing `**` (an urgency taken over from elsewhere, not yet reviewed) still counts.
 */
export function urgencySeverity(urgency: string): Severity | undefined {
  switch (urgency.trim().replace(/\*+$/, "").toLowerCase()) {
    case "high":
      return "high";
    case "medium":
      return "medium";
    case "low":
    case "unimportant":
      return "low";
    default:
      return undefined;
  }
}

export interface TrackerRating {
  /** `Debian:12` */
  ecosystem: string;
  /** the source package */
  sourcePackage: string;
  cveId: string;
  severity: Severity;
}

const CVE_ID = /^CVE-\d{4}-\d{4,}$/;

/**
 * The ratings in one issue of the tracker, one per numbered release whose urgency rates it.
 * `undefined` when the value is not an issue of the tracker's shape (the caller counts it skipped).
 */
export function trackerRatings(
  sourcePackage: unknown,
  issueId: unknown,
  raw: unknown,
): TrackerRating[] | undefined {
  const issue = TrackerIssueSchema.safeParse(raw);
  if (!issue.success || typeof sourcePackage !== "string" || typeof issueId !== "string") return undefined;
  // TEMP-… ids name issues no CVE exists for: no finding can carry them
  if (!CVE_ID.test(issueId) || sourcePackage.length > 256) return [];
  const ratings: TrackerRating[] = [];
  for (const [codename, value] of Object.entries(issue.data.releases)) {
    const number = DEBIAN_RELEASES.get(codename);
    const release = ReleaseSchema.safeParse(value);
    if (!number || !release.success || release.data.urgency === undefined) continue;
    const severity = urgencySeverity(release.data.urgency);
    if (severity) ratings.push({ ecosystem: `Debian:${number}`, sourcePackage, cveId: issueId, severity });
  }
  return ratings;
}

/** Where a tracker rating is kept in the DB's tracker pseudo-ecosystem: by release and source package. */
export const trackerKey = (ecosystem: string, sourcePackage: string): string =>
  `${ecosystem}/${sourcePackage}`;
