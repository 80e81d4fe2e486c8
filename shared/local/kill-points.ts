import type { PipelineDeps } from "../stages/pipeline-deps.js";
import {
  STAGE_QUEUES,
  type StageHandler,
  type StageHandlers,
  type StageQueue,
} from "../stages/stage-queues.js";

/**
 * Test-only fault injection for the crash tests: with `PORTCULLIS_TEST_KILL_AT=<where>:<point>[@n]`
 * in its environment, `portcullis serve` SIGKILLs itself the n-th time (default: the first) it
 * reaches that point, so a test can crash it at an exact instant instead of hoping a poll lands
 * there. Unset — always, outside tests — nothing is wrapped and nothing can fire. Not an app
 * setting: never deployed, never read by the Functions host.
 *
 * `where` is a stage queue (`scan-requests`, `layer-analysis`, `matching`, `verdict`, `tracking`)
 * or `intake` (the HTTP hooks and `POST /api/scans`). The points, in the order a delivery meets them:
 * - `received`: the message was delivered, before the stage ran;
 * - `wrote`: a table row, a blob or (tracking) a GitHub write was acknowledged, the stage not done;
 * - `sent`: a hand-off message was committed to the bus, the stage not done (intake: before the 202);
 * - `handled`: the stage returned, its message not yet completed (deleted) on the bus.
 */
export const KILL_AT_VARIABLE = "PORTCULLIS_TEST_KILL_AT";
export const KILL_POINTS = ["received", "wrote", "sent", "handled"] as const;
export type KillPointName = (typeof KILL_POINTS)[number];
export const KILL_PLACES = ["intake", ...STAGE_QUEUES] as const;

export interface KillPoint {
  where: string;
  point: KillPointName;
  /** fires on this hit of the point (1 = the first) */
  nth: number;
}

export function parseKillPoint(text: string): KillPoint {
  const match = /^([a-z-]+):([a-z]+)(?:@(\d+))?$/.exec(text.trim());
  const [, where, point, nth] = match ?? [];
  if (
    !where ||
    !(KILL_PLACES as readonly string[]).includes(where) ||
    !(KILL_POINTS as readonly string[]).includes(point!) ||
    (nth !== undefined && Number(nth) < 1)
  ) {
    throw new RangeError(
      `${KILL_AT_VARIABLE}="${text}": expected <${KILL_PLACES.join("|")}>:<${KILL_POINTS.join("|")}>[@n]`,
    );
  }
  return { where, point: point as KillPointName, nth: nth === undefined ? 1 : Number(nth) };
}

/** Counts hits of its one point and kills the process (or calls `kill`, in unit tests) on the n-th. */
export class KillSwitch {
  readonly at: KillPoint;
  readonly #kill: () => void;
  #hits = 0;

  constructor(at: KillPoint, kill: () => void = () => process.kill(process.pid, "SIGKILL")) {
    this.at = at;
    this.#kill = kill;
  }

  reach(where: string, point: KillPointName): void {
    if (where !== this.at.where || point !== this.at.point) return;
    if (++this.#hits === this.at.nth) this.#kill();
  }
}

/** The switch the environment asks for, or undefined (production). */
export function killSwitchFromEnv(env: NodeJS.ProcessEnv = process.env): KillSwitch | undefined {
  const text = env[KILL_AT_VARIABLE];
  return text ? new KillSwitch(parseKillPoint(text)) : undefined;
}

/** Every stage handler, reaching `received` before, `handled` after, and `wrote`/`sent` on its deps. */
export function killingHandlers(handlers: StageHandlers, killSwitch: KillSwitch): StageHandlers {
  const wrap =
    <Q extends StageQueue>(queue: Q, handle: StageHandler<Q>): StageHandler<Q> =>
    async (message, deps) => {
      killSwitch.reach(queue, "received");
      await handle(message, killingDeps(deps, queue, killSwitch));
      killSwitch.reach(queue, "handled");
    };
  return Object.fromEntries(
    STAGE_QUEUES.map((queue) => [queue, wrap(queue, handlers[queue] as StageHandler<StageQueue>)]),
  ) as StageHandlers;
}

/** The ports a stage (or intake) writes through, each reaching its point once a write returned. */
export function killingDeps<D extends Pick<PipelineDeps, "tables" | "blobs" | "bus" | "tracking">>(
  deps: D,
  where: string,
  killSwitch: KillSwitch,
): D {
  const wrote = () => killSwitch.reach(where, "wrote");
  return {
    ...deps,
    tables: afterCalls(
      deps.tables,
      ["upsert", "upsertMany", "insertIfAbsent", "updateIfMatch", "delete"],
      wrote,
    ),
    blobs: afterCalls(deps.blobs, ["put", "delete"], wrote),
    bus: afterCalls(deps.bus, ["send", "sendBatch"], () => killSwitch.reach(where, "sent")),
    ...(deps.tracking
      ? {
          tracking: {
            ...deps.tracking,
            tracker: afterCalls(deps.tracking.tracker, ["create", "update", "comment", "react"], wrote),
          },
        }
      : {}),
  };
}

/** `target` with `after` run once each named async method has resolved (not when it throws). */
function afterCalls<T extends object>(
  target: T,
  methods: readonly (keyof T & string)[],
  after: () => void,
): T {
  return new Proxy(target, {
    get(object, name) {
      const value: unknown = Reflect.get(object, name, object);
      if (typeof value !== "function") return value;
      const method = value as (...args: unknown[]) => unknown;
      if (!(methods as readonly (string | symbol)[]).includes(name)) return method.bind(object);
      return async (...args: unknown[]) => {
        const result = await method.apply(object, args);
        after();
        return result;
      };
    },
  });
}
