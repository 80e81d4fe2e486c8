import type { ContentFinding } from "../../model/content.js";
import type { HiveEntry } from "./hive-persistence.js";

/** The core system files whose version is the OS build the kernel actually runs. */
export const CORE_SYSTEM_FILE = /^Files\/Windows\/System32\/(?:ntoskrnl\.exe|kernel32\.dll|ntdll\.dll)$/i;

/** VS_FIXEDFILEINFO's signature, 0xFEEF04BD little-endian */
const FIXED_FILE_INFO = Buffer.from([0xbd, 0x04, 0xef, 0xfe]);

/** A PE's FileVersion ("10.0.20348.2227") from its VS_FIXEDFILEINFO, or undefined when it has none. */
export function fileVersion(content: Buffer): string | undefined {
  const at = content.indexOf(FIXED_FILE_INFO);
  if (at < 0 || at + 16 > content.length) return undefined;
  const ms = content.readUInt32LE(at + 8);
  const ls = content.readUInt32LE(at + 12);
  return `${ms >>> 16}.${ms & 0xffff}.${ls >>> 16}.${ls & 0xffff}`;
}

/** CurrentBuild and UBR as the layered SOFTWARE hive leaves them. */
export function hiveBuild(layers: readonly { layer: string; entries: HiveEntry[] }[]) {
  let build: { value: string; layer: string } | undefined;
  let ubr: { value: string; layer: string } | undefined;
  for (const { layer, entries } of layers)
    for (const e of entries) {
      if (!/\\Windows NT\\CurrentVersion$/i.test(e.key)) continue;
      if (/^CurrentBuild(?:Number)?$/i.test(e.value)) build = { value: e.data, layer };
      if (/^UBR$/i.test(e.value)) ubr = { value: e.data, layer };
    }
  return build === undefined ? undefined : { build, ubr };
}

/**
 * The hive's build and UBR against the FileVersion of ntoskrnl.exe, kernel32.dll and ntdll.dll: an
 * edited hive that claims a patched build while the files stay old makes the vulnerability verdict wrong.
 */
export function windowsBuildMismatches(
  hive: ReturnType<typeof hiveBuild>,
  files: readonly { path: string; layer: string; sha256: string; version: string }[],
): ContentFinding[] {
  if (hive === undefined) return [];
  const claimed = `${hive.build.value}${hive.ubr === undefined ? "" : `.${hive.ubr.value}`}`;
  const out: ContentFinding[] = [];
  for (const file of files) {
    const [, , build, revision] = file.version.split(".");
    if (build === hive.build.value && (hive.ubr === undefined || revision === hive.ubr.value)) continue;
    out.push({
      rule: "integrity/windows-build",
      category: "integrity",
      confidence: "suspected",
      engines: ["portcullis"],
      path: `/${file.path}`,
      layer: file.layer,
      sha256: file.sha256,
      summary: `the registry claims Windows build ${claimed}, but /${file.path} is version ${file.version}: the package database does not match the files`,
      evidence: [
        `SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion: CurrentBuild ${hive.build.value} (layer ${hive.build.layer})${hive.ubr === undefined ? "" : `, UBR ${hive.ubr.value} (layer ${hive.ubr.layer})`}`,
        `/${file.path} (layer ${file.layer}) has FileVersion ${file.version}`,
      ],
    });
  }
  return out;
}
