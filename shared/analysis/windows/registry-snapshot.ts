import { z } from "zod";
import { type Hive, RegType, type RegistryKey, type RegistryValue } from "./regf/index.js";

/** A registry value kept in a LayerReport: text, a number, or a REG_MULTI_SZ list. Binary data is not kept. */
export const RegistryScalarSchema = z.union([z.string(), z.number(), z.array(z.string())]);
export type RegistryScalar = z.infer<typeof RegistryScalarSchema>;

/** The captured part of one hive: "\\"-joined key path (below the hive root) → value name → value. */
export const RegistrySnapshotSchema = z.record(z.string(), z.record(z.string(), RegistryScalarSchema));
export type RegistrySnapshot = z.infer<typeof RegistrySnapshotSchema>;

/** A key whose values are kept; `children` keeps each direct subkey's values instead; `only` filters names. */
interface Capture {
  path: string[];
  children?: boolean;
  only?: string[];
}

/** The SOFTWARE keys the Windows inventory reads; everything else in a hive delta is ignored. */
export const SOFTWARE_CAPTURES: readonly Capture[] = [
  { path: ["Microsoft", "Windows NT", "CurrentVersion"] },
  {
    path: ["Microsoft", "Windows", "CurrentVersion", "Component Based Servicing", "Packages"],
    children: true,
    only: ["CurrentState"],
  },
  { path: ["Microsoft", "NET Framework Setup", "NDP", "v4", "Full"] },
  { path: ["Microsoft", "InetStp"] },
  { path: ["Microsoft", "PowerShell", "3", "PowerShellEngine"] },
  { path: ["Microsoft", "PowerShellCore", "InstalledVersions"], children: true },
  ...[[], ["WOW6432Node"]].map((prefix) => ({
    path: [...prefix, "Microsoft", "Windows", "CurrentVersion", "Uninstall"],
    children: true,
    only: ["DisplayName", "DisplayVersion", "Publisher", "InstallLocation", "SystemComponent"],
  })),
];

/** Copy the captured keys of a hive into a snapshot; values that cannot be decoded are skipped. */
export function captureSnapshot(hive: Hive, captures: readonly Capture[]): RegistrySnapshot {
  const out: RegistrySnapshot = {};
  for (const capture of captures) {
    const key = hive.subkey(capture.path);
    if (key === undefined) continue;
    const keys = capture.children ? key.subkeys() : [key];
    for (const k of keys) out[k.path.join("\\")] = captureValues(k, capture.only);
  }
  return out;
}

function captureValues(key: RegistryKey, only: string[] | undefined): Record<string, RegistryScalar> {
  const wanted = only?.map((n) => n.toUpperCase());
  const out: Record<string, RegistryScalar> = {};
  for (const value of key.values()) {
    if (wanted !== undefined && !wanted.includes(value.name.toUpperCase())) continue;
    const scalar = scalarOf(value);
    if (scalar !== undefined) out[value.name] = scalar;
  }
  return out;
}

function scalarOf(value: RegistryValue): RegistryScalar | undefined {
  switch (value.type) {
    case RegType.SZ:
    case RegType.EXPAND_SZ:
      return value.asString();
    case RegType.MULTI_SZ:
      return value.asStrings();
    case RegType.DWORD:
    case RegType.DWORD_BIG_ENDIAN:
      return value.data.length >= 4 ? value.asNumber() : undefined;
    case RegType.QWORD:
      return value.data.length >= 8 ? value.asBigInt()?.toString() : undefined;
    default:
      return undefined;
  }
}

/**
 * Overlay hive-delta snapshots in layer order: a later layer's value replaces an earlier one,
 * key paths compare case-insensitively (as Windows does), and the latest spelling is kept.
 */
export function overlaySnapshots(layers: readonly RegistrySnapshot[]): RegistrySnapshot {
  const merged = new Map<
    string,
    { path: string; values: Map<string, { name: string; value: RegistryScalar }> }
  >();
  for (const layer of layers) {
    for (const [path, values] of Object.entries(layer)) {
      const entry = merged.get(path.toUpperCase()) ?? { path, values: new Map() };
      entry.path = path;
      for (const [name, value] of Object.entries(values))
        entry.values.set(name.toUpperCase(), { name, value });
      merged.set(path.toUpperCase(), entry);
    }
  }
  const out: RegistrySnapshot = {};
  for (const { path, values } of merged.values()) {
    out[path] = Object.fromEntries([...values.values()].map(({ name, value }) => [name, value]));
  }
  return out;
}

/** Case-insensitive lookups in a snapshot. */
export function snapshotKey(
  snapshot: RegistrySnapshot,
  path: readonly string[],
): Record<string, RegistryScalar> | undefined {
  const wanted = path.join("\\").toUpperCase();
  for (const [p, values] of Object.entries(snapshot)) if (p.toUpperCase() === wanted) return values;
  return undefined;
}

export function snapshotChildren(
  snapshot: RegistrySnapshot,
  parent: readonly string[],
): { name: string; values: Record<string, RegistryScalar> }[] {
  const prefix = `${parent.join("\\").toUpperCase()}\\`;
  return Object.entries(snapshot)
    .filter(([p]) => p.toUpperCase().startsWith(prefix) && !p.slice(prefix.length).includes("\\"))
    .map(([p, values]) => ({ name: p.slice(prefix.length), values }));
}

export function scalarValue(
  values: Record<string, RegistryScalar> | undefined,
  name: string,
): RegistryScalar | undefined {
  if (values === undefined) return undefined;
  const wanted = name.toUpperCase();
  for (const [n, v] of Object.entries(values)) if (n.toUpperCase() === wanted) return v;
  return undefined;
}
