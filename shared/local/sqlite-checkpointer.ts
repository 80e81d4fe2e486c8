import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import type { SqliteDatabase } from "./sqlite-database.js";

/** The WAL size at which the checkpointer copies it into the main file (what autocheckpoint did at 4,096 pages). */
const CHECKPOINT_AT_BYTES = 64 * 1024 * 1024;
/** Past this the checkpointer waits for writers to pause and starts the WAL over (a passive one could not keep up). */
const RESTART_AT_BYTES = 512 * 1024 * 1024;
const POLL_MS = 250;

// The worker is plain CommonJS given as text: it runs the same way under tsx, vitest and the built
// package, and needs nothing but better-sqlite3 (its path is resolved here, where node_modules is known).
const WORKER_SOURCE = `
const { workerData, parentPort } = require("node:worker_threads");
const { statSync } = require("node:fs");
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma("busy_timeout = 5000");
const walSize = () => { try { return statSync(workerData.file + "-wal").size; } catch { return 0; } };
const timer = setInterval(() => {
  try {
    const size = walSize();
    if (size >= workerData.restartAt) db.pragma("wal_checkpoint(RESTART)");
    else if (size >= workerData.checkpointAt) db.pragma("wal_checkpoint(PASSIVE)");
  } catch (err) {
    parentPort.postMessage(String(err && err.message || err));
  }
}, workerData.pollMs);
parentPort.on("message", () => { clearInterval(timer); db.close(); parentPort.close(); });
`;

/**
 * Moves WAL checkpoints off the event loop: a checkpoint copies the WAL into the main file and
 * fsyncs it, which inside a commit stalls every stage for tens to hundreds of milliseconds. Here the
 * host's connection stops checkpointing and a worker thread with its own connection to the same
 * file does it (WAL lets a checkpoint run beside the writer). Returns the stop function, which gives
 * the checkpoints back to the connection. A `:memory:` store has no WAL and gets none.
 */
export function startCheckpointer(
  db: SqliteDatabase,
  file: string,
  log: (message: string) => void,
  /** tests: a smaller WAL and a shorter poll */
  tuning: { checkpointAtBytes?: number; pollMs?: number } = {},
): () => Promise<void> {
  if (file === ":memory:") return async () => {};
  const driver = createRequire(import.meta.url).resolve("better-sqlite3");
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: {
      driver,
      file,
      checkpointAt: tuning.checkpointAtBytes ?? CHECKPOINT_AT_BYTES,
      restartAt: Math.max(RESTART_AT_BYTES, tuning.checkpointAtBytes ?? 0),
      pollMs: tuning.pollMs ?? POLL_MS,
    },
  });
  // the host's own connection checkpoints again should the worker be gone
  const giveBack = () => {
    if (db.open) db.pragma("wal_autocheckpoint = 4096");
  };
  db.pragma("wal_autocheckpoint = 0");
  worker.on("message", (message) => log(`storage checkpoint: ${String(message)}`));
  worker.on("error", (err) => {
    log(`storage checkpoint worker failed (${err.message}); the store checkpoints on commit again`);
    giveBack();
  });
  let exited = false;
  worker.once("exit", () => {
    exited = true;
  });
  worker.unref();
  return async () => {
    if (exited) return giveBack();
    // a timer that holds the event loop: the worker is unref'd, and awaiting it alone would let the process end here
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      timer = setTimeout(resolve, 2000);
      worker.once("exit", () => resolve());
      worker.postMessage("stop");
    });
    clearTimeout(timer);
    await worker.terminate();
    giveBack();
  };
}
