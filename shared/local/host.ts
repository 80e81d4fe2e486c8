import type { HttpDeps } from "../http/http-deps.js";
import path from "node:path";
import { escapeControlCharacters } from "../model/log-text.js";
import { buildPipelineDeps, type PipelineParts } from "../composition/build-pipeline-deps.js";
import { httpDepsFromSettings } from "../composition/hook-auth-config.js";
import { loadPolicyInputs } from "../composition/load-policy-inputs.js";
import { hostAnalyzers } from "../analysis/registry.js";
import { registryAccess } from "../composition/registry-access.js";
import { registryAllowListFromSettings } from "../composition/registry-allow-list-settings.js";
import { IntakeJournal, journaledIntakeBus } from "./intake-journal.js";
import { dbUpdateOptions, readSettings, type Settings } from "../composition/settings.js";
import { jobCadence, jobRunners } from "../composition/timer-jobs.js";
import type { SweepResult } from "../stages/jobs/scheduled-rescan.js";
import type { BusSender, Subscription } from "../ports/bus.js";
import { intervalMs, JOB_NAMES, type JobName } from "../stages/jobs/schedules.js";
import type { PipelineDeps } from "../stages/pipeline-deps.js";
import { DEFAULT_LAYER_LEASE } from "../stages/layer-lease.js";
import type { AzuriteInstance } from "./azurite.js";
import { type LocalStorage, openLocalStorage } from "./local-storage.js";
import { readOrCreateHookToken } from "./hook-token.js";
import { withBeforeWrite } from "../tracking/issue-tracker.js";
import { trackingFromSettings } from "../tracking/tracking-from-settings.js";
import { startHttpServer } from "./http-server.js";
import { VerdictThread } from "./verdict-thread.js";
import { intervalTask } from "./interval-task.js";
import { DEFAULT_STAGE_WORKERS, type StageWorkerOptions, subscribeStages } from "./stage-workers.js";
import { STAGE_HANDLERS } from "../stages/stage-queues.js";
import { KILL_AT_VARIABLE, killingDeps, killingHandlers, killSwitchFromEnv } from "./kill-points.js";

export interface LocalHostOptions {
  /** the store (SQLite file or Azurite's data), the hook token: kept across restarts */
  dataDir: string;
  /** 0 = any free port */
  port?: number;
  host?: string;
  /** app settings (default: the environment) */
  settings?: Settings;
  log?: (message: string) => void;
  /** extra registry options (tests: a fast retry policy) */
  registry?: PipelineParts["registry"];
  db?: PipelineParts["db"];
  workers?: Partial<StageWorkerOptions>;
  /** how often the rescan timer runs; 0 = never. Default: its schedule (stages/jobs/schedules.ts) */
  rescanIntervalMs?: number;
  /** how often the DB is refreshed; 0 = never. Default: its schedule */
  dbRefreshIntervalMs?: number;
  now?: () => Date;
}

export interface LocalHost {
  url: string;
  port: number;
  /** what to give a registry: `Authorization: Bearer <hookToken>` */
  hookToken: string;
  /** only with PORTCULLIS_LOCAL_STORE=azurite */
  azurite?: AzuriteInstance;
  pipeline: PipelineDeps;
  http: HttpDeps;
  bus: LocalStorage["bus"];
  /** runs the rescan job once, now */
  rescanNow(): Promise<SweepResult>;
  stop(): Promise<void>;
}

/**
 * `portcullis serve`: the whole pipeline in one process on embedded storage (`local-storage.ts`):
 * tables, blobs and queues under `dataDir`, so a restart mid-scan resumes from the queues.
 */
export async function startLocalHost(options: LocalHostOptions): Promise<LocalHost> {
  const settings = options.settings ?? readSettings();
  const sink = options.log ?? ((message: string) => process.stderr.write(`${message}\n`));
  const log = (message: string) => sink(escapeControlCharacters(message));
  const now = options.now ?? (() => new Date());
  const dataDir = path.resolve(options.dataDir);
  const hookToken = settings.PORTCULLIS_HOOK_TOKEN ?? (await readOrCreateHookToken(dataDir));
  const { policy, vex, source } = await loadPolicyInputs(settings.PORTCULLIS_POLICY);
  if (source) log(`policy: ${source}`);

  const storage = await openLocalStorage(dataDir, settings, log);
  const cleanup: (() => Promise<void>)[] = [() => storage.close()];
  try {
    const { tables, blobs, bus } = storage;
    // one list for the hooks, the resolve stage and the token realms
    const allowList = registryAllowListFromSettings(settings, "local", options.registry?.insecureRegistries);
    const access = await registryAccess(settings, allowList);
    const dbOptions = { ...dbUpdateOptions(settings), ...options.db };
    const configured = trackingFromSettings(settings, policy.tracking, log);
    // GitHub hears of a change only once the ledger rows before it are durable
    const tracking = configured && {
      ...configured,
      tracker: withBeforeWrite(configured.tracker, storage.sync),
    };
    // test-only fault injection (kill-points.ts): unset in production, and then nothing is wrapped
    const killSwitch = killSwitchFromEnv();
    if (killSwitch) log(`TEST ONLY: ${KILL_AT_VARIABLE}=${process.env[KILL_AT_VARIABLE]} is armed`);
    // clamd's signature version joins the layer-cache key before any layer is keyed
    const analyzers = await hostAnalyzers(policy.content?.yaraRules ?? [], log);
    // a rescan's matching and policy on the second core, against the DB in the same file
    const verdictThread = storage.file
      ? new VerdictThread(storage.file, storage.flushBlobs, policy, vex)
      : undefined;
    if (verdictThread) cleanup.unshift(() => verdictThread.close());
    const pipeline = buildPipelineDeps({
      analyzers,
      tables,
      blobs,
      bus,
      dbStore: blobs,
      registry: { ...access, ...options.registry },
      registryAllowList: allowList,
      ...(verdictThread ? { verdictThread } : {}),
      policy,
      vex,
      db: dbOptions,
      now,
      log,
      ...(tracking ? { tracking } : {}),
    });
    // after a crash, work held by the dead process waits out its lock: shorter locks, quicker resumption
    const lockSeconds = settings.PORTCULLIS_LOCAL_LOCK_SECONDS;
    if (lockSeconds !== undefined) {
      Object.assign(pipeline, { layerLease: { ...DEFAULT_LAYER_LEASE, leaseMs: lockSeconds * 1000 } });
      if (tracking) tracking.intentLeaseMs = lockSeconds * 1000;
    }
    const workers = {
      ...DEFAULT_STAGE_WORKERS,
      maxDeliveries: settings.PORTCULLIS_MAX_DELIVERIES,
      ...(lockSeconds !== undefined ? { visibilityTimeoutSeconds: lockSeconds } : {}),
      ...options.workers,
    };
    const handlers = killSwitch ? killingHandlers(STAGE_HANDLERS, killSwitch) : STAGE_HANDLERS;
    const subscriptions: Subscription[] = subscribeStages(bus, pipeline, workers, handlers);
    cleanup.unshift(async () => {
      await Promise.all(subscriptions.map((s) => s.stop()));
    });

    // SQLite commits the scan row and the message before the 202; Azurite saves only every few
    // seconds, so there a 202 is made durable by the journal's fsync (intake-journal.ts)
    let intakeBus: BusSender = bus;
    if (!storage.durableOnCommit) {
      const journal = new IntakeJournal(dataDir);
      await journal.replay(tables, bus, log);
      cleanup.push(() => journal.close());
      intakeBus = journaledIntakeBus(bus, journal, now);
    }
    const intake = { tables, blobs, bus: intakeBus };
    const http = httpDepsFromSettings(
      settings,
      { ...(killSwitch ? killingDeps(intake, "intake", killSwitch) : intake), now, log },
      allowList,
      hookToken,
    );
    http.rescanBatchSize = settings.PORTCULLIS_RESCAN_BATCH_SIZE;
    http.rescanMaxQueueDepth = settings.PORTCULLIS_RESCAN_MAX_QUEUE_DEPTH;
    if (tracking) http.tracking = tracking;
    const server = await startHttpServer(http, {
      host: options.host ?? "127.0.0.1",
      port: options.port ?? 7071,
      beforeWriteAnswer: storage.sync,
    });
    // The server stops first: no new work arrives while the workers finish theirs.
    cleanup.unshift(() => server.close());

    const jobs = jobRunners(pipeline, settings, { store: blobs, options: dbOptions });
    http.dbRefresh = jobs.dbRefresh;
    // a historical rescan the last process left half queued is finished now
    void jobs.resumeRescans().catch((err: unknown) => log(`resuming rescans: ${(err as Error).message}`));
    // a job without an override runs on its shared schedule
    const everyMs: Partial<Record<JobName, number>> = {
      ...(options.rescanIntervalMs !== undefined ? { rescan: options.rescanIntervalMs } : {}),
      ...(options.dbRefreshIntervalMs !== undefined ? { dbRefresh: options.dbRefreshIntervalMs } : {}),
    };
    const timers: { stop(): Promise<void> }[] = [];
    for (const job of JOB_NAMES) {
      const every = everyMs[job] ?? intervalMs(jobCadence(job, settings));
      if (every > 0) timers.push(intervalTask(job, every, jobs[job], log));
    }
    cleanup.splice(1, 0, async () => {
      await Promise.all(timers.map((t) => t.stop()));
    });

    let stopped: Promise<void> | undefined;
    return {
      url: server.url,
      port: server.port,
      hookToken,
      ...(storage.azurite ? { azurite: storage.azurite } : {}),
      pipeline,
      http,
      bus,
      rescanNow: jobs.rescan,
      stop() {
        stopped ??= runCleanup(cleanup, log);
        return stopped;
      },
    };
  } catch (err) {
    await runCleanup(cleanup, log);
    throw err;
  }
}

async function runCleanup(steps: readonly (() => Promise<void>)[], log: (m: string) => void): Promise<void> {
  for (const step of steps) {
    try {
      await step();
    } catch (err) {
      log(`shutdown: ${(err as Error).message}`);
    }
  }
}
