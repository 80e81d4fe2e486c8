import picomatch from "picomatch";
import type { MisconfigurationMatch } from "../../../model/report.js";
import { misconfiguration, shellWord } from "../check-catalog.js";
import type { LinuxAuditData } from "./linux-audit-data.js";
import { isUsable, type ShadowEntry } from "./shadow.js";

/** The Linux audit's image fact: the surviving files' settings and the setuid files, owned or not. */
export interface LinuxAuditFact {
  files: { path: string; layer: string; data: Exclude<LinuxAuditData, { kind: "owned" | "mode" }> }[];
  setuid: { path: string; layer: string; mode: number; packaged: boolean }[];
  /** whether any package database's file list survives (without one, ownership is unknown) */
  packageLists: boolean;
}

/** A setting sshd takes, where it came from. */
interface SshdSetting {
  value: string;
  path: string;
  line: number;
  layer: string;
}

const SSHD_DEFAULTS: Record<string, string> = {
  permitrootlogin: "prohibit-password",
  passwordauthentication: "yes",
  permitemptypasswords: "no",
};

/** The Linux checks over the squashed files (PCS-LNX-0001…0008). */
export function auditLinux(fact: LinuxAuditFact | undefined): MisconfigurationMatch[] {
  if (fact === undefined) return [];
  const out: MisconfigurationMatch[] = [];
  const shadowFile = fact.files.find((f) => f.path === "etc/shadow");
  const shadow = shadowFile?.data.kind === "shadow" ? shadowFile.data.entries : [];
  const shadowAt = (e: ShadowEntry) => ({ location: "/etc/shadow", line: e.line });
  const layer = shadowFile?.layer;

  for (const e of shadow) {
    if (e.state === "empty")
      out.push(
        misconfiguration(
          "PCS-LNX-0001",
          [{ ...shadowAt(e), found: `${e.user} has an empty password field` }],
          sh(`passwd -l ${shellWord(e.user)}`),
          layer,
        ),
      );
    if (e.state === "des" || e.state === "md5")
      out.push(
        misconfiguration(
          "PCS-LNX-0002",
          [
            {
              ...shadowAt(e),
              found: `${e.user}'s password is a ${e.state === "des" ? "DES" : "MD5"} crypt hash`,
            },
          ],
          sh(`passwd -l ${shellWord(e.user)}`),
          layer,
        ),
      );
    if (e.user === "root" && e.state !== "empty" && isUsable(e.state))
      out.push(
        misconfiguration(
          "PCS-LNX-0003",
          [{ ...shadowAt(e), found: "root has a password hash (not locked)" }],
          sh("passwd -l root"),
          layer,
        ),
      );
  }

  const sshd = sshdSettings(fact);
  if (sshd !== undefined) {
    const setting = (k: string) => sshd.get(k);
    const is = (k: string, v: string) => (setting(k)?.value ?? SSHD_DEFAULTS[k])?.toLowerCase() === v;
    const at = (s: SshdSetting, found: string) => ({ location: `/${s.path}`, line: s.line, found });
    const rewrite = (s: SshdSetting, to: string) =>
      `sed -i '${s.line}s/.*/${to}/' ${shellWord(`/${s.path}`)}`;
    const rootLogin = setting("permitrootlogin");
    if (rootLogin && is("permitrootlogin", "yes"))
      out.push(
        misconfiguration(
          "PCS-LNX-0004",
          [at(rootLogin, `PermitRootLogin ${rootLogin.value}`)],
          sh(rewrite(rootLogin, "PermitRootLogin no")),
          rootLogin.layer,
        ),
      );
    const empty = setting("permitemptypasswords");
    if (empty && is("permitemptypasswords", "yes")) {
      out.push(
        misconfiguration(
          "PCS-LNX-0005",
          [at(empty, `PermitEmptyPasswords ${empty.value}`)],
          sh(rewrite(empty, "PermitEmptyPasswords no")),
          empty.layer,
        ),
      );
      // root logs in with a password only when PermitRootLogin says yes
      const open = shadow.filter(
        (e) => e.state === "empty" && (e.user !== "root" || is("permitrootlogin", "yes")),
      );
      if (open.length > 0 && is("passwordauthentication", "yes")) {
        const password = setting("passwordauthentication");
        out.push(
          misconfiguration(
            "PCS-LNX-0006",
            [
              at(empty, `PermitEmptyPasswords ${empty.value}`),
              password
                ? at(password, `PasswordAuthentication ${password.value}`)
                : { location: "/etc/ssh/sshd_config", found: "PasswordAuthentication yes (the default)" },
              ...open.map((e) => ({ ...shadowAt(e), found: `${e.user} has an empty password field` })),
            ],
            sh(
              [
                ...open.map((e) => `passwd -l ${shellWord(e.user)}`),
                rewrite(empty, "PermitEmptyPasswords no"),
              ].join(" && "),
            ),
            empty.layer,
          ),
        );
      }
    }
  }

  for (const f of fact.files) {
    if (f.data.kind !== "sudoers") continue;
    for (const g of f.data.grants) {
      const fix = /^Defaults/.test(g.text)
        ? `sed -i '${g.line}d'`
        : `sed -i '${g.line}s/NOPASSWD:[[:space:]]*//'`;
      out.push(
        misconfiguration(
          "PCS-LNX-0007",
          [{ location: `/${f.path}`, line: g.line, found: g.text }],
          sh(`${fix} ${shellWord(`/${f.path}`)}`),
          f.layer,
        ),
      );
    }
  }

  if (fact.packageLists)
    for (const s of fact.setuid) {
      if (s.packaged) continue;
      const bits = [(s.mode & 0o4000) !== 0 ? "setuid" : "", (s.mode & 0o2000) !== 0 ? "setgid" : ""]
        .filter(Boolean)
        .join("+");
      out.push(
        misconfiguration(
          "PCS-LNX-0008",
          [
            {
              location: `/${s.path}`,
              found: `${bits} (mode ${s.mode.toString(8).padStart(4, "0")}), in no package's file list`,
            },
          ],
          sh(`chmod u-s,g-s ${shellWord(`/${s.path}`)}`),
          s.layer,
        ),
      );
    }
  return out;
}

const sh = (script: string) => ({ shell: "sh" as const, script });

/**
 * sshd's effective global settings: sshd_config read in order, each `Include` expanded in place
 * (glob, sorted, relative to /etc/ssh), and the first value of a keyword wins. Undefined when no
 * sshd_config survives (no SSH server).
 */
function sshdSettings(fact: LinuxAuditFact): Map<string, SshdSetting> | undefined {
  const main = fact.files.find((f) => f.path === "etc/ssh/sshd_config");
  if (main?.data.kind !== "sshd") return undefined;
  const dropIns = fact.files.filter((f) => f.data.kind === "sshd" && f.path !== main.path);
  const settings = new Map<string, SshdSetting>();
  const take = (file: typeof main, nested: boolean) => {
    if (file.data.kind !== "sshd") return;
    for (const l of file.data.lines) {
      if ("include" in l) {
        if (nested) continue;
        for (const pattern of l.include) {
          const glob = pattern.startsWith("/") ? pattern.slice(1) : `etc/ssh/${pattern}`;
          const isMatch = picomatch(glob, { dot: false });
          for (const f of dropIns.filter((d) => isMatch(d.path)).sort((a, b) => (a.path < b.path ? -1 : 1)))
            take(f, true);
        }
      } else if (!settings.has(l.keyword))
        settings.set(l.keyword, { value: l.value, path: file.path, line: l.line, layer: file.layer });
    }
  };
  take(main, false);
  return settings;
}
