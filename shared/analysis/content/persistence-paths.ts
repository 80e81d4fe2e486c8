/** A place where a file makes something run at boot, on a schedule, at login or in every process. */
export interface PersistencePlace {
  rule: string;
  what: string;
  /** true when even a file a package ships here is reported (Debian ships no ld.so.preload) */
  always: boolean;
}

const CRON =
  /^(?:etc\/crontab|etc\/cron\.(?:d|hourly|daily|weekly|monthly)\/[^/]+|var\/spool\/cron\/(?:crontabs\/)?[^/]+)$/;
const SYSTEMD =
  /^(?:etc|usr\/lib|lib|run)\/systemd\/(?:system|user)\/(?:[^/]+\/)*[^/]+\.(?:service|timer|socket|path)$/;
const AUTHORIZED_KEYS = /^(?:root|home\/[^/]+)\/\.ssh\/authorized_keys2?$/;

// Windows layers keep the file system under Files/; Windows ships no program in a Startup folder
const STARTUP =
  /^(?:Files\/)?(?:ProgramData|Users\/[^/]+\/AppData\/Roaming)\/Microsoft\/Windows\/Start Menu\/Programs\/Startup\/(?!desktop\.ini$)[^/]+$/i;

/** The persistence place a path is, or undefined. Paths have no leading slash. */
export function persistencePlace(path: string): PersistencePlace | undefined {
  // most of an image's files lie under usr/, where no place is but systemd's units: one test, not nine
  if (path.startsWith("usr/") && !path.startsWith("usr/lib/systemd/")) return undefined;
  if (path === "etc/ld.so.preload")
    return { rule: "persistence/ld-so-preload", what: "preloads a library into every process", always: true };
  if (AUTHORIZED_KEYS.test(path))
    return { rule: "persistence/authorized-keys", what: "lets a key log in over SSH", always: true };
  if (STARTUP.test(path))
    return {
      rule: "persistence/windows-startup-folder",
      what: "starts at every logon (Startup folder)",
      always: true,
    };
  if (CRON.test(path) && !path.endsWith("/.placeholder"))
    return { rule: "persistence/cron", what: "runs on a schedule (cron)", always: false };
  if (SYSTEMD.test(path))
    return { rule: "persistence/systemd-unit", what: "a systemd unit that can start at boot", always: false };
  if (path === "etc/rc.local" || /^etc\/init\.d\/[^/]+$/.test(path) || /^etc\/rc[0-6S]\.d\/[^/]+$/.test(path))
    return { rule: "persistence/init-script", what: "runs at boot (rc.local / init script)", always: false };
  // etc/profile itself is written by base-files' maintainer script, so no package database vouches for it
  if (/^etc\/profile\.d\/[^/]+$/.test(path) || path === "etc/bash.bashrc")
    return { rule: "persistence/shell-startup", what: "runs in every login shell", always: false };
  return undefined;
}
