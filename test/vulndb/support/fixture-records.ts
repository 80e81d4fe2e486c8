import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { parseRecordDocument } from "../../../shared/vulndb/osv-local-records.js";
import { REPO_ROOT } from "../../support/cli.js";

export const OSV_FIXTURES = path.join(REPO_ROOT, "test/fixtures/osv");

/** Every record file under test/fixtures/osv/<sub> (JSON or YAML), parsed but not validated. */
export function fixtureRecords(sub: string): { file: string; record: Record<string, unknown> }[] {
  const out: { file: string; record: Record<string, unknown> }[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const full = path.join(dir, name);
      if (statSync(full).isDirectory()) walk(full);
      else if (/\.(json|ya?ml)$/.test(name)) {
        for (const record of parseRecordDocument(name, readFileSync(full))) {
          out.push({ file: path.relative(OSV_FIXTURES, full), record: record as Record<string, unknown> });
        }
      }
    }
  };
  walk(path.join(OSV_FIXTURES, sub));
  return out;
}

export function fixtureRecord(file: string): Record<string, unknown> {
  return parseRecordDocument(file, readFileSync(path.join(OSV_FIXTURES, file)))[0] as Record<string, unknown>;
}
