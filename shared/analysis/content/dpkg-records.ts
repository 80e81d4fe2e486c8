import { readStanzas } from "../dpkg/control-stanzas.js";
import type { ContentData } from "./content-data.js";

export const DPKG_STATUS = "var/lib/dpkg/status";
const STATUS_FIELDS: ReadonlySet<string> = new Set([
  "package",
  "version",
  "status",
  "conffiles",
  "architecture",
]);
const MD5SUMS = /^var\/lib\/dpkg\/info\/([^/]+)\.md5sums$/;
const MD5_LINE = /^([0-9a-f]{32}) [ *]?(.+)$/;

/** The package a `var/lib/dpkg/info/<pkg>[:arch].md5sums` path belongs to, or undefined. */
export function md5sumsPackage(path: string): string | undefined {
  return MD5SUMS.exec(path)?.[1];
}

/** One md5sums file, as `debsums` reads it: `<md5>  <path without leading slash>`; other lines are skipped. */
export function parseMd5sums(pkg: string, text: string): Extract<ContentData, { kind: "md5sums" }> {
  const files: [string, string][] = [];
  for (const line of text.split("\n")) {
    const match = MD5_LINE.exec(line.trimEnd());
    if (match) files.push([match[2]!.replace(/^\.?\/+/, ""), match[1]!]);
  }
  return { kind: "md5sums", package: pkg, files };
}

/** Installed packages' versions and conffile digests from `var/lib/dpkg/status`. */
export function parseStatusForIntegrity(
  text: string | Buffer,
): Extract<ContentData, { kind: "dpkg-status" }> {
  const packages: Extract<ContentData, { kind: "dpkg-status" }>["packages"] = [];
  const data = typeof text === "string" ? Buffer.from(text, "utf8") : text;
  for (const { fields } of readStanzas(data, STATUS_FIELDS)) {
    const name = fields.get("package");
    const version = fields.get("version");
    const status = fields.get("status") ?? "";
    if (!name || !version || !status.endsWith(" installed")) continue;
    const conffiles: [string, string][] = [];
    for (const line of (fields.get("conffiles") ?? "").split("\n")) {
      const [path, md5] = line.trim().split(/\s+/);
      if (path && md5 && /^[0-9a-f]{32}$/.test(md5)) conffiles.push([path.replace(/^\/+/, ""), md5]);
    }
    const arch = fields.get("architecture");
    packages.push({ name, ...(arch ? { arch } : {}), version, conffiles });
  }
  return { kind: "dpkg-status", packages };
}
