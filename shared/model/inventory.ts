import { z } from "zod";

/** Operating system of an image, as the report shows it. */
export const OsInfoSchema = z.object({
  /** debian, ubuntu, alpine, windows, … (os-release ID) */
  family: z.string(),
  /** 12.7, 3.20.3, 10.0.26100.4061 … */
  version: z.string(),
  /** a human name: "Debian GNU/Linux 12 (bookworm)", "Windows Server 2025 (Server Core installation)" */
  name: z.string().optional(),
  /** VERSION_CODENAME, when known */
  codename: z.string().optional(),
});
export type OsInfo = z.infer<typeof OsInfoSchema>;

export const SourcePackageSchema = z.object({ name: z.string(), version: z.string() });

/** The OS package (dpkg, rpm, apk) whose file list holds a language package's files: what installed it. */
export const InstalledBySchema = z.object({
  name: z.string(),
  /** absent when the file list survives but the package database does not name the package */
  version: z.string().optional(),
  purl: z.string().optional(),
});

/** One installed package in an image. `layer` is the digest of the layer that introduced it. */
export const PackageSchema = z.object({
  name: z.string(),
  version: z.string(),
  /** OSV ecosystem name: "Debian:12", "Alpine:v3.20", "npm", "NuGet", "Windows" … */
  ecosystem: z.string(),
  purl: z.string(),
  source: SourcePackageSchema.optional(),
  layer: z.string(),
  paths: z.array(z.string()),
  arch: z.string().optional(),
  /** a language package an OS package installed: matched through that package's advisories (policy `osOwnedPackages`) */
  installedBy: InstalledBySchema.optional(),
  /** a development dependency, as its lockfile marks it: matched only with policy `devDependencies: match` */
  dev: z.boolean().optional(),
});
export type Package = z.infer<typeof PackageSchema>;

export const WarningSchema = z.object({
  code: z.string(),
  message: z.string(),
  layer: z.string().optional(),
  path: z.string().optional(),
});
export type ScanWarning = z.infer<typeof WarningSchema>;
