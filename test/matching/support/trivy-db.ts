import { readFileSync } from "node:fs";
import { parse } from "yaml";

/**
 * Converts trivy-db fixture buckets (the bolt DB dumped as YAML) into OSV records, so our matcher
 * can be checked against trivy's goldens. Test support only: trivy-db is not a portcullis feed.
 */
interface Bucket {
  bucket: string;
  pairs: ({ key: string; value: Record<string, unknown> } | Bucket)[];
}

function ecosystemOf(bucket: string): string | undefined {
  const os = /^(debian|alpine) (\S+)$/.exec(bucket);
  if (os) return os[1] === "debian" ? `Debian:${os[2]}` : `Alpine:v${os[2]}`;
  const lang = bucket.split("::")[0];
  return ({ npm: "npm", pip: "PyPI", go: "Go", nuget: "NuGet", maven: "Maven" } as Record<string, string>)[
    lang ?? ""
  ];
}

/** ">= 0.33.1, < 0.37.0" → OSV events; a leading "v" goes, as OSV's Go ranges have none. */
function eventsOf(constraint: string): Record<string, string>[] {
  const events: Record<string, string>[] = [];
  for (const part of constraint.split(",").map((s) => s.trim())) {
    const m = /^(>=|<=|<|=)\s*v?(\S+)$/.exec(part);
    if (!m) throw new Error(`unsupported constraint ${part}`);
    const [, op, version] = m as unknown as [string, string, string];
    if (op === ">=") events.push({ introduced: version });
    else if (op === "<") events.push({ fixed: version });
    else if (op === "<=") events.push({ last_affected: version });
    else events.push({ introduced: version }, { last_affected: version });
  }
  if (!events.some((e) => e.introduced !== undefined)) events.unshift({ introduced: "0" });
  return events;
}

export function trivyDbToOsv(files: string[]): Record<string, unknown>[] {
  const records: Record<string, unknown>[] = [];
  for (const file of files) {
    for (const top of parse(readFileSync(file, "utf8")) as Bucket[]) {
      const ecosystem = ecosystemOf(top.bucket);
      if (!ecosystem) continue;
      for (const pkgBucket of top.pairs as Bucket[]) {
        for (const { key, value } of pkgBucket.pairs as { key: string; value: Record<string, unknown> }[]) {
          let events: Record<string, string>[];
          if (Array.isArray(value.VulnerableVersions)) {
            events = (value.VulnerableVersions as string[]).flatMap(eventsOf);
          } else if (typeof value.FixedVersion === "string") {
            events = [{ introduced: "0" }, { fixed: value.FixedVersion }];
          } else {
            events = [{ introduced: "0" }]; // trivy-db: no fixed version = affected, unfixed
          }
          records.push({
            id: key,
            modified: "2024-01-01T00:00:00Z",
            affected: [
              { package: { ecosystem, name: pkgBucket.bucket }, ranges: [{ type: "ECOSYSTEM", events }] },
            ],
          });
        }
      }
    }
  }
  return records;
}
