import type { DpkgPackage } from "../../support/debian-image.js";
import { runTool } from "../../support/run-tool.js";
import { buildZip } from "../../vulndb/support/zip.js";

/** CVSS v3.1 base vectors with known scores (FIRST calculator). */
export const CVSS = {
  /** 9.8 */
  critical: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
  /** 7.5 */
  high: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N",
  /** 4.2 */
  medium: "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:L/A:N",
} as const;

export const MODIFIED = "2025-01-15T10:00:00Z";

/** One event of an OSV range. */
export type OsvEvent = { introduced: string } | { fixed: string } | { last_affected: string };

export interface DebianRecordSpec {
  id: string;
  /** the Debian source package the advisory is about */
  source: string;
  ecosystem?: string;
  aliases?: string[];
  upstream?: string[];
  summary?: string;
  cvss?: string;
  /** Debian's own rating, as the tracker writes it */
  urgency?: string;
  /** one ECOSYSTEM range; omitted with `versions` for a record that lists versions only */
  events?: OsvEvent[];
  versions?: string[];
  withdrawn?: string;
}

/** An OSV record the way the Debian feed of the export bucket writes one. */
export function debianRecord(spec: DebianRecordSpec): Record<string, unknown> {
  const ecosystem = spec.ecosystem ?? "Debian:12";
  return {
    schema_version: "1.6.0",
    id: spec.id,
    modified: MODIFIED,
    published: "2025-01-10T00:00:00Z",
    ...(spec.withdrawn ? { withdrawn: spec.withdrawn } : {}),
    ...(spec.aliases ? { aliases: spec.aliases } : {}),
    ...(spec.upstream ? { upstream: spec.upstream } : {}),
    summary: spec.summary ?? `${spec.source}: test advisory ${spec.id}`,
    details: `Generated for the portcullis scan integration suite from the image's own ${spec.source} source package.`,
    ...(spec.cvss ? { severity: [{ type: "CVSS_V3", score: spec.cvss }] } : {}),
    affected: [
      {
        package: {
          ecosystem,
          name: spec.source,
          purl: `pkg:deb/debian/${spec.source}?arch=source&distro=${ecosystem.toLowerCase().replace(":", "-")}`,
        },
        ...(spec.events ? { ranges: [{ type: "ECOSYSTEM", events: spec.events }] } : {}),
        ...(spec.versions ? { versions: spec.versions } : {}),
        ...(spec.urgency ? { ecosystem_specific: { urgency: spec.urgency } } : {}),
        database_specific: { source: `https://security-tracker.debian.org/tracker/${spec.id}` },
      },
    ],
    references: [{ type: "ADVISORY", url: `https://security-tracker.debian.org/tracker/${spec.id}` }],
  };
}

/** `all.zip` as the bucket serves it: one `<id>.json` per record. */
export function osvExportZip(records: readonly Record<string, unknown>[]): Buffer {
  const files: Record<string, string> = {};
  for (const [i, r] of records.entries())
    files[`${typeof r.id === "string" ? r.id : `invalid-${i}`}.json`] = `${JSON.stringify(r, null, 2)}\n`;
  return buildZip(files);
}

/** The source package (name and version) a binary package of the image was built from. */
export function sourceOf(
  packages: readonly DpkgPackage[],
  binary: string,
): { name: string; version: string } {
  const pkg = packages.find((p) => p.name === binary);
  if (!pkg) throw new Error(`the test image has no package ${binary}`);
  return { name: pkg.sourceName, version: pkg.sourceVersion };
}

/** Every binary package of the image built from this source. */
export function binariesOf<P extends DpkgPackage>(packages: readonly P[], source: string): P[] {
  return packages.filter((p) => p.sourceName === source);
}

function shiftLastNumber(version: string, by: 1 | -1): string {
  const m = /^(.*?)(\d+)(\D*)$/.exec(version);
  if (!m) throw new Error(`no number to change in ${version}`);
  const n = Number(m[2]) + by;
  if (n < 0) throw new Error(`cannot go below ${version}`);
  return `${m[1]}${n}${m[3]}`;
}

/** The next Debian revision of a version, as a security update names it: `…+deb12u2` → `…+deb12u3`. */
export const nextRevision = (version: string): string => shiftLastNumber(version, 1);
/** An earlier revision: `…+deb12u3` → `…+deb12u2`. */
export const previousRevision = (version: string): string => shiftLastNumber(version, -1);

/** The real `dpkg --compare-versions`: the fixture's premises are checked by Debian's own tool. */
export async function dpkgCompare(a: string, op: "lt" | "eq" | "gt", b: string): Promise<boolean> {
  try {
    await runTool("dpkg", ["--compare-versions", a, op, b]);
    return true;
  } catch {
    return false;
  }
}
