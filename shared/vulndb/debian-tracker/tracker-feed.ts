import { DEBIAN_TRACKER_ECOSYSTEM } from "../db-format.js";
import type { AdvisoryCollector } from "../db-build.js";
import { type JsonStreamLimits, streamJsonFile } from "../json-stream.js";
import { TRACKER_ISSUES_PATH, trackerKey, trackerRatings } from "./tracker-json.js";

/** The tracker's whole state as one JSON document; mirrors serve a copy at `<mirror>/debian-tracker/json`. */
export const DEFAULT_DEBIAN_TRACKER_URL = "https://security-tracker.debian.org/tracker/data/json";

export const trackerMirrorUrl = (mirror: string): string =>
  `${mirror.replace(/\/+$/, "")}/debian-tracker/json`;

/**
 * Reads a copy of the tracker's JSON (plain or gzip) into the collector: one rating per CVE, release
 * and source package whose urgency rates it. Streamed, so the 100 MB document never sits in memory.
 */
export async function collectTrackerFile(
  collector: AdvisoryCollector,
  file: string,
  limits: JsonStreamLimits = {},
): Promise<void> {
  await streamJsonFile(
    file,
    TRACKER_ISSUES_PATH,
    (value, keys) => {
      const [sourcePackage, issueId] = keys;
      const ratings = trackerRatings(sourcePackage, issueId, value);
      if (!ratings) return collector.skip(`${String(sourcePackage)} ${String(issueId)}: not a tracker issue`);
      for (const r of ratings)
        collector.addRating(DEBIAN_TRACKER_ECOSYSTEM, trackerKey(r.ecosystem, r.sourcePackage), {
          cveId: r.cveId,
          severity: r.severity,
          source: "distribution",
        });
    },
    limits,
  );
}
