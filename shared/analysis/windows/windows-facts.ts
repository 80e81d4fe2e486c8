import { z } from "zod";
import { parseCbsPackage } from "./cbs-package.js";
import { netFrameworkVersion } from "./netfx-release.js";
import { type RegistrySnapshot, scalarValue, snapshotChildren, snapshotKey } from "./registry-snapshot.js";
import { windowsProductName } from "./windows-product.js";

export const WindowsOsFactsSchema = z.object({
  build: z.number().int(),
  ubr: z.number().int().optional(),
  /** 10.0.<build>.<UBR> — the form of the image config's os.version */
  version: z.string(),
  /** the MSRC product name: "Windows Server 2025 (Server Core installation)" */
  product: z.string(),
  productName: z.string().optional(),
  editionId: z.string().optional(),
  installationType: z.string().optional(),
  displayVersion: z.string().optional(),
});

/** Everything the Windows inventory knows about an image after its hive deltas are overlaid. */
export const WindowsFactsSchema = z.object({
  os: WindowsOsFactsSchema.optional(),
  updates: z.array(
    z.object({
      identity: z.string(),
      kb: z.string().optional(),
      rollupBuild: z.string().optional(),
      state: z.string().optional(),
    }),
  ),
  netFramework: z
    .object({ release: z.number(), version: z.string(), versionString: z.string().optional() })
    .optional(),
  iis: z.object({ version: z.string() }).optional(),
  powershell: z.array(z.object({ version: z.string(), source: z.string() })),
  programs: z.array(
    z.object({ key: z.string(), name: z.string(), version: z.string(), publisher: z.string().optional() }),
  ),
});
export type WindowsFacts = z.infer<typeof WindowsFactsSchema>;

const text = (v: unknown): string | undefined =>
  typeof v === "string" && v.trim() !== "" ? v.trim() : undefined;
const num = (v: unknown): number | undefined =>
  typeof v === "number" ? v : typeof v === "string" && /^\d+$/.test(v) ? Number(v) : undefined;

/** Read the Windows facts out of an (overlaid) SOFTWARE snapshot. */
export function windowsFactsFromSnapshot(software: RegistrySnapshot): WindowsFacts {
  return {
    os: osFacts(software),
    updates: snapshotChildren(software, [
      "Microsoft",
      "Windows",
      "CurrentVersion",
      "Component Based Servicing",
      "Packages",
    ])
      .map(({ name, values }) => parseCbsPackage(name, num(scalarValue(values, "CurrentState"))))
      .filter((p) => p.kb !== undefined || p.rollupBuild !== undefined),
    netFramework: netFrameworkFacts(software),
    iis: iisFacts(software),
    powershell: powershellFacts(software),
    programs: programFacts(software),
  };
}

function osFacts(software: RegistrySnapshot): WindowsFacts["os"] {
  const cv = snapshotKey(software, ["Microsoft", "Windows NT", "CurrentVersion"]);
  const build = num(scalarValue(cv, "CurrentBuildNumber") ?? scalarValue(cv, "CurrentBuild"));
  if (build === undefined) return undefined;
  const ubr = num(scalarValue(cv, "UBR"));
  const installationType = text(scalarValue(cv, "InstallationType"));
  const displayVersion = text(scalarValue(cv, "DisplayVersion")) ?? text(scalarValue(cv, "ReleaseId"));
  return {
    build,
    ubr,
    version: `10.0.${build}.${ubr ?? 0}`,
    product: windowsProductName(build, installationType, displayVersion),
    productName: text(scalarValue(cv, "ProductName")),
    editionId: text(scalarValue(cv, "EditionID")),
    installationType,
    displayVersion,
  };
}

function netFrameworkFacts(software: RegistrySnapshot): WindowsFacts["netFramework"] {
  const full = snapshotKey(software, ["Microsoft", "NET Framework Setup", "NDP", "v4", "Full"]);
  const release = num(scalarValue(full, "Release"));
  const version = release === undefined ? undefined : netFrameworkVersion(release);
  if (release === undefined || version === undefined) return undefined;
  return { release, version, versionString: text(scalarValue(full, "Version")) };
}

function iisFacts(software: RegistrySnapshot): WindowsFacts["iis"] {
  const inetStp = snapshotKey(software, ["Microsoft", "InetStp"]);
  const major = num(scalarValue(inetStp, "MajorVersion"));
  if (major === undefined) return undefined;
  return { version: `${major}.${num(scalarValue(inetStp, "MinorVersion")) ?? 0}` };
}

function powershellFacts(software: RegistrySnapshot): WindowsFacts["powershell"] {
  const out: WindowsFacts["powershell"] = [];
  const engine = text(
    scalarValue(
      snapshotKey(software, ["Microsoft", "PowerShell", "3", "PowerShellEngine"]),
      "PowerShellVersion",
    ),
  );
  if (engine) out.push({ version: engine, source: "Windows PowerShell" });
  for (const { values } of snapshotChildren(software, ["Microsoft", "PowerShellCore", "InstalledVersions"])) {
    const version = text(scalarValue(values, "SemanticVersion"));
    if (version) out.push({ version, source: "PowerShell" });
  }
  return out;
}

function programFacts(software: RegistrySnapshot): WindowsFacts["programs"] {
  const out: WindowsFacts["programs"] = [];
  for (const prefix of [[], ["WOW6432Node"]]) {
    for (const { name: key, values } of snapshotChildren(software, [
      ...prefix,
      "Microsoft",
      "Windows",
      "CurrentVersion",
      "Uninstall",
    ])) {
      const name = text(scalarValue(values, "DisplayName"));
      const version = text(scalarValue(values, "DisplayVersion"));
      if (name === undefined || version === undefined) continue;
      out.push({ key, name, version, publisher: text(scalarValue(values, "Publisher")) });
    }
  }
  return out;
}
