import type { Analyzer, AnalyzerOutput, AnalyzerWarning, LayerData } from "../../analyzer.js";
import { readRpmOwnedFiles } from "../../os-owned/package-manager-files.js";
import { isRpmDatabasePath } from "../../rpm/rpm-analyzer.js";
import { auditLinux, type LinuxAuditFact } from "./linux-audit.js";
import type { LinuxAuditData } from "./linux-audit-data.js";
import { parseShadow } from "./shadow.js";
import { parseSshdConfig } from "./sshd-config.js";
import { parseSudoers } from "./sudoers.js";

const SSHD = /^etc\/ssh\/(sshd_config|sshd_config\.d\/[^/]+)$/;
// sudo skips included files whose names hold a "." or end in "~"
const SUDOERS = /^etc\/(sudoers|sudoers\.d\/[^/.]*[^/.~])$/;
const DPKG_LIST = /^var\/lib\/dpkg\/info\/[^/]+\.list$/;
const APK_DB = "lib/apk/db/installed";
const SETUID_SETGID = 0o6000;
const MAX_SETTINGS_FILE = 16 * 1024 * 1024;
const EXECUTABLE = 0o111;

/**
 * The Linux configuration audit, in the same pass as the package analyzers: shadow, sshd and sudoers
 * settings, setuid/setgid files (from tar headers, no content read) and the package databases' file
 * lists they are compared with. Per-file results squash like packages: a later layer's file wins.
 */
export const linuxAuditAnalyzer = {
  name: "audit-linux",
  version: 2,
  maxFileSize: 512 * 1024 * 1024,
  required(path) {
    if (path.startsWith("etc/")) return path === "etc/shadow" || SSHD.test(path) || SUDOERS.test(path);
    return DPKG_LIST.test(path) || path === APK_DB || (isRpmDatabasePath(path) && !path.endsWith("-wal"));
  },
  // executables without the bits are kept too: a later layer's `chmod u-s` copy must replace the setuid one
  inspect({ mode }) {
    if ((mode & (SETUID_SETGID | EXECUTABLE)) === 0) return undefined;
    const data: LinuxAuditData = { kind: "mode", mode: mode & 0o7777 };
    return { data };
  },
  async analyze({ path, content }): Promise<AnalyzerOutput> {
    if (isRpmDatabasePath(path)) {
      // every header's file names (any of rpm's three formats)
      const owners = await readRpmOwnedFiles(content, () => true);
      // an unreadable database lists no file: no list rather than an empty one (setuid-unverified, not
      // every setuid file called unowned); the rpm analyzer already warns about the database
      if (owners.length === 0) return {};
      const data: LinuxAuditData = { kind: "owned", paths: owners.flatMap((o) => o.paths).join("\n") };
      return { data };
    }
    // the rpm database may be large; a settings file this big is not one to parse
    if (content.length > MAX_SETTINGS_FILE)
      return {
        warnings: [
          {
            code: "file-too-large",
            message: `/${path} is ${content.length} bytes, more than the configuration audit reads (${MAX_SETTINGS_FILE}); not audited`,
            path,
          },
        ],
      };
    const text = content.toString("utf8");
    let data: LinuxAuditData;
    if (path === "etc/shadow") data = { kind: "shadow", entries: parseShadow(text) };
    else if (path.startsWith("etc/ssh/")) data = { kind: "sshd", lines: parseSshdConfig(text) };
    else if (path.startsWith("etc/sudoers")) data = { kind: "sudoers", grants: parseSudoers(text) };
    else if (path === APK_DB) data = { kind: "owned", paths: apkPaths(text) };
    else data = { kind: "owned", paths: text.trimEnd() };
    return { data };
  },
  squash: squashLinuxAudit,
  audit: (fact: unknown) => {
    const audited = fact as LinuxAuditFact | undefined;
    return { misconfigurations: auditLinux(audited), warnings: setuidUnverified(audited) };
  },
} satisfies Analyzer;

/** The surviving files' data; package file lists reduced to the setuid files they own. */
function squashLinuxAudit(layers: readonly LayerData[]): LinuxAuditFact {
  const fact: LinuxAuditFact = { files: [], setuid: [], packageLists: false };
  const owned = new Set<string>();
  for (const { layer, path, data, survives } of layers) {
    if (!survives) continue;
    const d = data as LinuxAuditData;
    if (d.kind === "owned") {
      fact.packageLists = true;
      for (const p of d.paths.split("\n")) owned.add(p.replace(/^\/+/, ""));
    } else if (d.kind === "mode") {
      if ((d.mode & SETUID_SETGID) !== 0) fact.setuid.push({ path, layer, mode: d.mode, packaged: false });
    } else fact.files.push({ path, layer, data: d });
  }
  for (const s of fact.setuid) s.packaged = owned.has(s.path) || owned.has(unmerged(s.path));
  return fact;
}

/**
 * Setuid/setgid files with no package file list to compare them with (apk-tools 3's database is not
 * read for file lists, or none survives): PCS-LNX-0008 could not be decided, so say so rather than pass.
 */
function setuidUnverified(fact: LinuxAuditFact | undefined): AnalyzerWarning[] {
  if (!fact || fact.packageLists || fact.setuid.length === 0) return [];
  const shown = fact.setuid
    .slice(0, 5)
    .map((s) => `/${s.path}`)
    .join(", ");
  const more = fact.setuid.length > 5 ? ` and ${fact.setuid.length - 5} more` : "";
  return [
    {
      code: "setuid-unverified",
      message: `${fact.setuid.length} setuid/setgid file(s) (${shown}${more}) could not be compared with a package file list (none was read): PCS-LNX-0008 was not checked`,
    },
  ];
}

/** apk's installed database: `F:` names a directory, the `R:` lines after it its files. */
function apkPaths(text: string): string {
  const out: string[] = [];
  let dir = "";
  for (const line of text.split("\n")) {
    if (line.startsWith("F:")) dir = line.slice(2).trim();
    else if (line.startsWith("R:"))
      out.push(dir === "" ? line.slice(2).trim() : `${dir}/${line.slice(2).trim()}`);
  }
  return out.join("\n");
}

/**
 * On a merged-/usr system (Debian 12) `/bin`, `/sbin` and `/lib*` are links into `/usr`, while the
 * packages' file lists still name the old place: `usr/bin/su` is listed as `/bin/su`.
 */
const unmerged = (path: string): string => path.replace(/^usr\/(bin|sbin|lib|lib32|lib64|libx32)\//, "$1/");
