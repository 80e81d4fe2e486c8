import { pep503Name } from "../../model/package-name.js";
import type { PackageRecord } from "../analyzer.js";

// PEP 508 names; versions are anything PEP 440 could call a public or local version
const NAME = /^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$/;
const VERSION = /^v?\d[\w.!+-]*$/;

export function pythonRecord(name: unknown, version: unknown): PackageRecord | undefined {
  if (typeof name !== "string" || typeof version !== "string") return undefined;
  const n = name.trim();
  const v = version.trim();
  if (n.length > 200 || v.length > 200 || !NAME.test(n) || !VERSION.test(v)) return undefined;
  return { kind: "pypi", name: pep503Name(n), version: v, ecosystem: "PyPI" };
}
