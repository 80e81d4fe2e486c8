/**
 * Every code a scan warning carries, with what it tells the reader: a warning is something looked at
 * and not fully read, matched or checked, never a silent pass. A new warning adds its code here (the
 * model README's table is checked against this list by test/model/warning-codes.test.ts).
 */
export const WARNING_CODES = {
  // the layer walk
  "path-escape": "a tar entry's name leaves the layer root; the entry was skipped",
  "link-escape": "a symlink or hardlink points outside the layer root; it was not followed",
  "hardlink-unresolved":
    "a hardlink's target was not read in the same layer, so the link's content is unknown",
  "file-too-large": "a file is bigger than the analyzer that wanted it reads; it was skipped",
  "analyzer-failed": "an analyzer threw on one file; the rest of the layer was analysed",
  "warnings-capped": "one layer gave more warnings of one code than are kept; the count says how many",
  "layer-cache-write-failed": "the layer report could not be stored: the next scan analyses the layer again",
  "foreign-layer-skipped": "a foreign or non-distributable layer (a Windows base layer) was not pulled",
  // what the image is
  "os-release-unreadable": "the OS release file exists but could not be parsed",
  "os-unknown": "no OS release file survives: OS packages have no release to be matched against",
  "nothing-found": "no OS and no package database were found: nothing could be matched",
  "distribution-unsupported":
    "the distribution release has no advisory feed: its OS packages were not matched",
  "package-db-unread": "a package database in the image has no reader: its packages were not checked",
  "package-db-symlink": "a package database is a symlink whose target was not read",
  // package databases and language manifests
  "dpkg-stanza-invalid": "a dpkg status stanza could not be parsed; the others were read",
  "apk-entry-invalid": "an apk installed-database entry could not be parsed; the others were read",
  "rpm-db-unreadable": "an rpm database, or one record of it, could not be read",
  "npm-manifest-unreadable": "an npm package.json or lockfile could not be parsed",
  "pypi-metadata-unreadable": "a Python package's METADATA, PKG-INFO or lockfile could not be parsed",
  "maven-archive-unreadable": "a jar, war or ear (or an archive inside one) could not be read",
  "go-buildinfo-unreadable": "a Go binary's build information could not be read",
  "nuget-file-unreadable": "a .NET deps.json, packages.config or project assets file could not be parsed",
  "rubygems-file-unreadable": "a gemspec or Gemfile.lock could not be parsed",
  "composer-file-unreadable": "a composer.lock or installed.json could not be parsed",
  "cargo-lock-unreadable": "a Cargo.lock could not be parsed",
  "cargo-auditable-unreadable": "a Rust binary's cargo-auditable section could not be read",
  "powershell-deps-unreadable": "PowerShell's pwsh.deps.json could not be parsed",
  // Windows
  "windows-hive-unreadable": "a registry hive could not be read: it was not inventoried or audited",
  "windows-product-unknown": "no hive names the Windows product: the OS build alone cannot be matched",
  "windows-os-from-config": "no layer carries a SOFTWARE hive: the OS build comes from the image config",
  "windows-os-version-mismatch": "the registry's OS build and the image config's os.version disagree",
  "windows-nano-server-unmatched":
    "MSRC publishes nothing for this Windows product: its build is not matched",
  "sam-record-corrupt": "a SAM account or domain record could not be parsed: it was not audited",
  // the configuration audit
  "image-config-not-audited":
    "the image config was not available: runs-as-root, secrets and HEALTHCHECK were not checked",
  "not-audited": "a stored inventory predates the configuration audit: misconfigurations were not checked",
  "setuid-unverified": "setuid/setgid files exist but no package file list was read to compare them with",
  // the content engine
  "clamd-unavailable": "clamd, the second engine, could not scan some files: portcullis's rules alone looked",
  "content-hive-unreadable": "a hive the content engine reads for persistence could not be read",
  "content-findings-truncated": "a layer gave more content findings than are kept",
  "pe-unreadable": "a PE file's headers are malformed: it was not analysed for imports",
  "content-integrity-unhashed":
    "a package lists files where packages install nothing (usr/local, home, srv …), which are not hashed: not checked",
  "yara-timeout": "the user's YARA rules passed their time bound: they gave no verdict on some files",
  "elf-unreadable": "an ELF file's headers are malformed: it was not analysed for packing",
  "content-task-unreadable": "a scheduled task's definition could not be read: its actions were not checked",
  "integrity-unverified":
    "files an apk or rpm database lists were not hashed in its algorithm: not cross-checked",
  // the policy
  "accepted-risk-expired": "an accepted risk in the policy has expired and no longer suppresses",
} as const;

export type WarningCode = keyof typeof WARNING_CODES;

export const isWarningCode = (value: string): value is WarningCode => Object.hasOwn(WARNING_CODES, value);
