import type { ContentFinding } from "../../model/content.js";
import { type Hive, openHive, RegfError, type RegistryKey } from "../windows/regf/index.js";

/** A persistence-relevant registry value as a hive (delta) writes it. */
export interface HiveEntry {
  /** "SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run" — the hive's name, then the key path */
  key: string;
  value: string;
  data: string;
}

/** wclayer's hive files (deltas, or whole hives under the same names) that hold autostart places. */
const HIVE_FILE = /^Hives\/(Software|System|DefaultUser)(?:_Delta)?$/i;
const MAX_ENTRIES = 4096;
const RUN_KEYS = [
  ["Microsoft", "Windows", "CurrentVersion", "Run"],
  ["Microsoft", "Windows", "CurrentVersion", "RunOnce"],
  ["Wow6432Node", "Microsoft", "Windows", "CurrentVersion", "Run"],
  ["Wow6432Node", "Microsoft", "Windows", "CurrentVersion", "RunOnce"],
];
const NT_CURRENT = ["Microsoft", "Windows NT", "CurrentVersion"];
const WINLOGON = [...NT_CURRENT, "Winlogon"];
const IFEO = ["Microsoft", "Windows NT", "CurrentVersion", "Image File Execution Options"];

export const isPersistenceHive = (path: string): boolean => HIVE_FILE.test(path);

/** The autostart values a SOFTWARE, SYSTEM or default-user hive holds; an unreadable hive is an error message. */
export function readHivePersistence(
  path: string,
  content: Buffer,
): { entries: HiveEntry[] } | { error: string } {
  const name = HIVE_FILE.exec(path)?.[1]?.toUpperCase() ?? "SOFTWARE";
  try {
    const hive = openHive(content, { maxValueBytes: 64 * 1024 });
    const entries =
      name === "SYSTEM" ? services(hive) : name === "DEFAULTUSER" ? userRun(hive) : softwareEntries(hive);
    return { entries: entries.slice(0, MAX_ENTRIES) };
  } catch (err) {
    if (!(err instanceof RegfError)) throw err;
    return { error: `${name} hive: ${err.message}; its autostart entries were not checked` };
  }
}

const text = (key: RegistryKey, value: string) => {
  const v = key.value(value);
  return v?.asString() ?? v?.asStrings()?.join(" ");
};

function valuesOf(hiveName: string, key: RegistryKey | undefined, only?: string[]): HiveEntry[] {
  if (key === undefined) return [];
  const out: HiveEntry[] = [];
  for (const v of key.values()) {
    if (only !== undefined && !only.some((o) => o.toUpperCase() === v.name.toUpperCase())) continue;
    const data = v.asString() ?? v.asStrings()?.join(" ");
    if (data !== undefined) out.push({ key: [hiveName, ...key.path].join("\\"), value: v.name, data });
  }
  return out;
}

function softwareEntries(hive: Hive): HiveEntry[] {
  const out = RUN_KEYS.flatMap((path) => valuesOf("SOFTWARE", hive.subkey(path)));
  out.push(...valuesOf("SOFTWARE", hive.subkey(WINLOGON), ["Userinit", "Shell"]));
  // the build the registry claims, for the FileVersion cross-check (windows-build-check.ts)
  const current = hive.subkey(NT_CURRENT);
  out.push(...valuesOf("SOFTWARE", current, ["CurrentBuild", "CurrentBuildNumber"]));
  const ubr = current?.value("UBR")?.asNumber();
  if (current !== undefined && ubr !== undefined)
    out.push({ key: ["SOFTWARE", ...current.path].join("\\"), value: "UBR", data: String(ubr) });
  for (const image of hive.subkey(IFEO)?.subkeys() ?? []) {
    if (out.length >= MAX_ENTRIES) break;
    out.push(...valuesOf("SOFTWARE", image, ["Debugger"]));
  }
  return out;
}

function userRun(hive: Hive): HiveEntry[] {
  return RUN_KEYS.slice(0, 2).flatMap((path) => valuesOf("DEFAULT", hive.subkey(["Software", ...path])));
}

function services(hive: Hive): HiveEntry[] {
  const out: HiveEntry[] = [];
  for (const set of hive.root().subkeys()) {
    if (!/^ControlSet\d{3}$/i.test(set.name)) continue;
    for (const service of set.subkey("Services")?.subkeys() ?? []) {
      if (out.length >= MAX_ENTRIES) return out;
      const image = text(service, "ImagePath");
      if (image !== undefined)
        out.push({ key: ["SYSTEM", ...service.path].join("\\"), value: "ImagePath", data: image });
    }
  }
  return out;
}

// where Windows and installed software keep their service binaries (scheduled-tasks.ts judges commands by it too)
export const STANDARD_IMAGE =
  /^"?(?:\\\?\?\\)?(?:(?:%SystemRoot%|%windir%|\\SystemRoot|[A-Z]:\\Windows)\\(?:System32|SysWOW64|Microsoft\.NET|WinSxS|servicing)\\|(?:System32|system32)\\|[A-Z]:\\Program Files(?: \(x86\))?\\|%ProgramFiles(?:\(x86\))?%\\)/i;
const DEFAULT_USERINIT = /^(?:[A-Z]:\\Windows\\system32\\userinit\.exe|userinit\.exe),?$/i;
const DEFAULT_SHELL = /^explorer\.exe$/i;

/**
 * The image's autostart entries as the layers leave them (a delta's value replaces the one below),
 * judged: every Run/RunOnce entry and IFEO debugger; Winlogon Userinit/Shell other than Windows'
 * own; services whose ImagePath lies outside System32 and Program Files.
 */
export function hivePersistenceFindings(
  layers: readonly { layer: string; entries: HiveEntry[] }[],
): ContentFinding[] {
  const final = new Map<string, HiveEntry & { layer: string }>();
  for (const { layer, entries } of layers)
    for (const e of entries) final.set(`${e.key}\0${e.value}`.toUpperCase(), { ...e, layer });
  const out: ContentFinding[] = [];
  for (const e of final.values()) {
    const judged = judge(e);
    if (judged === undefined) continue;
    out.push({
      rule: judged.rule,
      category: "persistence",
      confidence: "suspected",
      engines: ["portcullis"],
      path: `registry:${e.key}\\${e.value}`,
      layer: e.layer,
      summary: `${judged.what}: ${e.value} = ${e.data}`,
      evidence: [`${e.key}\\${e.value} = ${JSON.stringify(e.data)} (written by layer ${e.layer})`],
    });
  }
  return out;
}

function judge(e: HiveEntry): { rule: string; what: string } | undefined {
  const key = e.key.toUpperCase();
  if (/\\RUN(ONCE)?$/.test(key))
    return {
      rule: "persistence/windows-run-key",
      what: `a program started at every logon (${key.endsWith("ONCE") ? "RunOnce" : "Run"})`,
    };
  if (key.includes("IMAGE FILE EXECUTION OPTIONS"))
    return {
      rule: "persistence/windows-ifeo-debugger",
      what: "an IFEO Debugger hijack: another program runs instead of this one",
    };
  if (key.endsWith("\\WINLOGON")) {
    const standard = e.value.toUpperCase() === "SHELL" ? DEFAULT_SHELL : DEFAULT_USERINIT;
    if (standard.test(e.data.trim())) return undefined;
    return { rule: "persistence/windows-winlogon", what: `Winlogon ${e.value} is not Windows' own` };
  }
  if (e.value.toUpperCase() === "IMAGEPATH" && !STANDARD_IMAGE.test(e.data.trim()))
    return {
      rule: "persistence/windows-service-image",
      what: "a service whose program lies outside System32 and Program Files",
    };
  return undefined;
}
