// The verdict thread's side (verdict-thread.ts starts it): matching and the policy for a rescan, on
// the second core, against the vulnerability DB read through its own read-only connection.
import { parentPort, workerData } from "node:worker_threads";
import Database from "better-sqlite3";
import { ZodError } from "zod";
import { matchInventory } from "../matching/match.js";
import { ScanError } from "../model/errors.js";
import { type Inventory, InventorySchema } from "../model/report.js";
import type { AcceptedRisk, Policy } from "../policy/policy.js";
import type { OpenVexDocument } from "../policy/vex.js";
import { describeDamage } from "../stages/inventory-damage.js";
import { makeReport } from "../stages/make-report.js";
import { decidedReport, decidedTransfer } from "../stages/decided-report.js";
import { openDb } from "../vulndb/db-read.js";
import { SqliteBlobStore } from "./sqlite-blob-store.js";
import type { VerdictJob, VerdictAnswer } from "./verdict-thread.js";

const { file, policy, vex } = workerData as {
  file: string;
  policy: Policy;
  vex: readonly OpenVexDocument[] | undefined;
};
const connection = new Database(file, { readonly: true, fileMustExist: true });
connection.pragma("busy_timeout = 5000");
const store = new SqliteBlobStore(connection);

async function verdict(job: VerdictJob): Promise<VerdictAnswer> {
  // the DB pointer is read every time: an update the host made since is used at once
  const db = await openDb(store);
  if (!db) return { id: job.id, noDb: true };
  let inventory: Inventory;
  if (job.stored) {
    const text = store.getText(job.stored.key);
    if (text === undefined) return { id: job.id, unreadable: {} };
    try {
      inventory = InventorySchema.parse(JSON.parse(text));
    } catch (err) {
      // a damaged inventory fails its rescan visibly (the host records why); anything else is retried
      if (err instanceof SyntaxError || err instanceof ZodError)
        return { id: job.id, unreadable: { corrupt: describeDamage(err) } };
      throw err;
    }
    const { tags, ...names } = job.stored.image;
    inventory.image.tags = tags;
    Object.assign(inventory.image, names);
  } else inventory = JSON.parse(job.inventoryJson ?? "null") as Inventory;
  const matches = await matchInventory(inventory.packages, db, policy);
  const stamp = { version: db.metadata.version, updatedAt: db.metadata.updatedAt };
  const risks: readonly AcceptedRisk[] = job.acceptedRisks;
  const { report } = makeReport(inventory, matches, stamp, {
    policy: risks.length ? { ...policy, acceptedRisks: [...policy.acceptedRisks, ...risks] } : policy,
    now: new Date(job.now),
    checkReport: false,
    ...(vex ? { vex } : {}),
  });
  // the report's JSON and its rows made here, where it is an object: the host parses none of it
  return { id: job.id, decided: decidedReport(report, stamp) };
}

parentPort!.on("message", (job: VerdictJob) => {
  verdict(job).then(
    // the report's bytes move to the host, not copied
    (answer) => parentPort!.postMessage(answer, "decided" in answer ? decidedTransfer(answer.decided) : []),
    (err: unknown) =>
      parentPort!.postMessage(
        err instanceof ScanError
          ? { id: job.id, error: err.message, code: err.code, permanent: err.permanent }
          : { id: job.id, error: err instanceof Error ? err.message : String(err) },
      ),
  );
});
parentPort!.postMessage({ ready: true });
