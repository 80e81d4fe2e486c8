const HOUR = 3_600_000;

/** When a timer job runs: every `everyHours` hours (a divisor of 24), at `minute` past the hour, UTC. */
export interface Cadence {
  everyHours: number;
  minute: number;
}

/** The Functions timer's NCRONTAB (six fields, with seconds) for a cadence. */
export const ncrontab = (c: Cadence): string =>
  `0 ${c.minute} ${c.everyHours === 1 ? "*" : `*/${c.everyHours}`} * * *`;

const NCRONTAB_CADENCE = /^0 ([0-5]?[0-9]) (\*|\*\/([0-9]{1,2})|0\/([0-9]{1,2})) \* \* \*$/;

/**
 * A cadence from a six-field NCRONTAB, in the shapes both hosts can keep: `0 M * * * *` (hourly)
 * or `0 M 0/H * * *` (star-slash H too) with H a divisor of 24. Anything else is refused with the reason.
 */
export function parseCadence(text: string): Cadence {
  const m = NCRONTAB_CADENCE.exec(text.trim().replace(/\s+/g, " "));
  if (!m) throw new RangeError(`"${text}" is not "0 <minute> * * * *" or "0 <minute> */<hours> * * *"`);
  const minute = Number(m[1]);
  const everyHours = m[2] === "*" ? 1 : Number(m[3] ?? m[4]);
  if (minute > 59 || everyHours < 1 || 24 % everyHours !== 0)
    throw new RangeError(`"${text}": minute 0–59, and hours a divisor of 24`);
  return { everyHours, minute };
}

/** The local host's interval for a cadence. */
export const intervalMs = (c: Cadence): number => c.everyHours * HOUR;

/**
 * The timer jobs and their cadence, defined once for both hosts: `functions/` registers a timer
 * per entry, the local host runs an interval per entry.
 */
export const JOB_SCHEDULES = {
  /** the rescan sweep: hourly */
  rescan: { functionName: "rescanTimer", cadence: { everyHours: 1, minute: 15 } },
  /** the DB refresh (and the rescans a changed DB calls for): every six hours */
  dbRefresh: { functionName: "dbRefreshTimer", cadence: { everyHours: 6, minute: 0 } },
} as const satisfies Record<string, { functionName: string; cadence: Cadence }>;

export type JobName = keyof typeof JOB_SCHEDULES;
export const JOB_NAMES = Object.keys(JOB_SCHEDULES) as JobName[];

/** A rescan run's id: the UTC hour it started in, so a timer firing twice that hour sends nothing twice. */
export const rescanRunId = (now: Date): string =>
  now
    .toISOString()
    .slice(0, 13)
    .replace(/[^0-9]/g, "");

/** A DB refresh's rescan run id: the DB version it re-matches against. */
export const dbRescanRunId = (dbVersion: string): string => `db-${dbVersion}`;
