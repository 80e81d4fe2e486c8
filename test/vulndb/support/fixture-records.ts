import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { parseRecordDocument } from "../../../shared/vulndb/osv-local-records.js";
import { corpusPath } from "../../support/corpus.js";

/** The short names the tests use for the corpus's OSV folders (see the corpus MANIFEST.md). */
const OSV_FOLDERS: Record<string, string> = {
  debian: "osv/debian",
  ghsa: "osv/ghsa/advisory-database",
  go: "osv/go",
  linter: "osv/osv-schema-linter",
  pypi: "osv/pypi/trivy-db",
  "pypi-pysec-yaml": "osv/pypi-pysec-yaml",
};

/** Absolute path of `<short name>/<rest>` in the corpus, e.g. `pypi-pysec-yaml/flask`. */
export function osvCorpusPath(file: string): string {
  const [head = "", ...rest] = file.split("/");
  const folder = OSV_FOLDERS[head];
  if (folder === undefined) throw new Error(`no OSV corpus folder is called ${head}`);
  return corpusPath(folder, ...rest);
}

/** Every record file directly under (or, for folders of folders, below) an OSV corpus folder, parsed but not validated. */
export function fixtureRecords(sub: string): { file: string; record: Record<string, unknown> }[] {
  const out: { file: string; record: Record<string, unknown> }[] = [];
  const root = osvCorpusPath(sub);
  const walk = (dir: string) => {
    const names = readdirSync(dir).sort();
    const files = names.filter(
      (name) => /\.(json|ya?ml)$/.test(name) && statSync(path.join(dir, name)).isFile(),
    );
    for (const name of files) {
      for (const record of parseRecordDocument(name, readFileSync(path.join(dir, name)))) {
        out.push({
          file: path.join(sub, path.relative(root, path.join(dir, name))),
          record: record as Record<string, unknown>,
        });
      }
    }
    // A folder that holds records is a leaf; only a folder of folders (pypi-pysec-yaml/<package>/) is walked into.
    if (files.length === 0)
      for (const name of names) if (statSync(path.join(dir, name)).isDirectory()) walk(path.join(dir, name));
  };
  walk(root);
  return out;
}

export function fixtureRecord(file: string): Record<string, unknown> {
  return parseRecordDocument(file, readFileSync(osvCorpusPath(file)))[0] as Record<string, unknown>;
}
