import { inflateSync } from "node:zlib";
import type { ChunkedBytes } from "../chunked-bytes.js";
import { readBinarySection } from "./binary-section.js";

/** One crate cargo auditable recorded: its `source` is "crates.io", "git", "local", "registry" or "other". */
export interface AuditableCrate {
  name: string;
  version: string;
}

// real dependency lists compress to kilobytes; this much JSON is a decompression bomb
const MAX_JSON = 8 * 1024 * 1024;
const MAX_CRATES = 100_000;
const NAME = /^[A-Za-z0-9_-]{1,64}$/;
const VERSION = /^\d+\.\d+\.\d+[\w.+-]*$/;

/**
 * The crates a `cargo auditable` build embedded in its `.dep-v0` section (zlib-compressed JSON,
 * `{"packages":[{name, version, source, kind, …}]}`): published runtime crates only, as Trivy reads
 * them (build-time crates are not in the binary). Undefined when the binary has no such section.
 */
export function readAuditableCrates(binary: Buffer | ChunkedBytes): AuditableCrate[] | undefined | string {
  const section = readBinarySection(binary, ".dep-v0");
  if (section === undefined || typeof section === "string") return section;
  let json: Buffer;
  try {
    json = inflateSync(section, { maxOutputLength: MAX_JSON });
  } catch (err) {
    const bomb = (err as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE";
    return bomb
      ? `.dep-v0 inflates past ${MAX_JSON} bytes; not read`
      : `.dep-v0 is not zlib data (${(err as Error).message})`;
  }
  let doc: unknown;
  try {
    doc = JSON.parse(json.toString("utf8"));
  } catch (err) {
    return `.dep-v0 is not JSON (${(err as Error).message})`;
  }
  const packages = (doc as { packages?: unknown } | null)?.packages;
  if (!Array.isArray(packages)) return ".dep-v0 has no packages list";
  const crates: AuditableCrate[] = [];
  for (const p of packages.slice(0, MAX_CRATES)) {
    const { name, version, source, kind } = (p ?? {}) as Record<string, unknown>;
    // `kind` is absent for runtime crates in the format's compact form
    if (source !== "crates.io" || (kind !== undefined && kind !== "runtime")) continue;
    if (typeof name !== "string" || typeof version !== "string" || !NAME.test(name) || !VERSION.test(version))
      continue;
    crates.push({ name, version });
  }
  return crates;
}
