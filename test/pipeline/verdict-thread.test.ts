import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { SqliteBlobStore } from "../../shared/local/sqlite-blob-store.js";
import {
  flushGroupCommit,
  openLocalStore,
  openWindowOf,
  startGroupCommit,
} from "../../shared/local/sqlite-database.js";
import { VerdictThread } from "../../shared/local/verdict-thread.js";
import { matchInventory } from "../../shared/matching/match.js";
import { parsePolicy } from "../../shared/policy/load-policy.js";
import { makeReport } from "../../shared/stages/make-report.js";
import { decidedReport } from "../../shared/stages/decided-report.js";
import { findingRowSetOf } from "../../shared/stages/findings.js";
import { verdictFindings } from "../../shared/stages/verdict-history.js";
import { buildDbFromRecords } from "../../shared/vulndb/db-build.js";
import { openDb } from "../../shared/vulndb/db-read.js";
import { inventory } from "../policy/match-builder.js";
import { osvRecord } from "../vulndb/support/records.js";

const POLICY = parsePolicy("acceptedRisks: []\n");
/** The report a decided answer carries, parsed. */
const reportOf = (decided: { report: Uint8Array }) => JSON.parse(new TextDecoder().decode(decided.report));
const NOW = new Date("2025-01-01T00:00:00Z");
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function store() {
  const dir = await mkdtemp(path.join(tmpdir(), "portcullis-verdict-thread-"));
  const file = path.join(dir, "portcullis.sqlite");
  const db = openLocalStore(file);
  const thread = new VerdictThread(file, () => {}, POLICY);
  cleanups.push(async () => {
    await thread.close();
    db.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { blobs: new SqliteBlobStore(db), thread };
}

describe("the local host's verdict thread (a rescan's matching and policy on the second core)", () => {
  it("answers the report the event loop's own match and decide make, with the repository's accepted risks", async () => {
    const { blobs, thread } = await store();
    await buildDbFromRecords(
      blobs,
      [
        osvRecord("CVE-2099-0001", "Debian:12", "openssl", [{ introduced: "0" }]),
        osvRecord("CVE-2099-0002", "Debian:12", "openssl", [{ introduced: "0" }, { fixed: "9.0.0-1" }]),
      ],
      { now: NOW },
    );
    const risks = [
      { id: "CVE-2099-0002", reason: "not reachable (accepted by a on #1)", expires: "2030-01-01" },
    ];
    const answer = await thread.run(inventory(), risks, NOW);
    expect(answer).toBeDefined();

    const db = (await openDb(blobs))!;
    const stamp = { version: db.metadata.version, updatedAt: db.metadata.updatedAt };
    const policy = { ...POLICY, acceptedRisks: risks };
    const here = makeReport(inventory(), await matchInventory(inventory().packages, db, policy), stamp, {
      policy,
      now: NOW,
    }).report;
    expect(answer!.db).toEqual(stamp);
    expect(reportOf(answer!)).toEqual(here);
    // ready to store: the same report bytes, row set, record findings and images-row fields the
    // event loop would have made from the object
    expect(answer).toEqual(decidedReport(here, stamp));
    expect(answer!.findingRows).toEqual(findingRowSetOf(here.findings));
    expect(answer!.findingStates).toEqual(verdictFindings(here.findings).bytes);
    expect(new TextDecoder().decode(answer!.report)).toBe(JSON.stringify(here));
    expect(answer!.verdict).toEqual(here.verdict);
    const counted = Object.values(answer!.counts).reduce((sum, n) => sum + n, 0);
    expect(counted).toBe(here.findings.filter((f) => !f.suppressed).length);
    expect(here.findings.map((f) => [f.id, f.suppressed?.kind])).toEqual(
      expect.arrayContaining([["CVE-2099-0002", "accepted-risk"]]),
    );
  });

  it("says there is no DB rather than guess, and fails a job it cannot run (retryable) without losing the next one", async () => {
    const { blobs, thread } = await store();
    expect(await thread.run(inventory(), [], NOW)).toBeUndefined();
    // an inventory the thread cannot match fails that job alone, as a retryable error
    await buildDbFromRecords(
      blobs,
      [osvRecord("CVE-2099-0003", "Debian:12", "openssl", [{ introduced: "0" }])],
      {
        now: NOW,
      },
    );
    const broken = { ...inventory(), packages: null } as unknown as ReturnType<typeof inventory>;
    await expect(thread.run(broken, [], NOW)).rejects.toThrow(/verdict thread/);
    const after = await thread.run(inventory(), [], NOW);
    expect(reportOf(after!).findings.map((f: { id: string }) => f.id)).toEqual(["CVE-2099-0003"]);
  });

  it("reads a stored inventory itself: the same report as one sent whole, and a missing or damaged blob named, not matched", async () => {
    const { blobs, thread } = await store();
    await buildDbFromRecords(
      blobs,
      [osvRecord("CVE-2099-0004", "Debian:12", "openssl", [{ introduced: "0" }])],
      { now: NOW },
    );
    const image = {
      tags: ["1.0", "latest"],
      ref: "registry.test/app:1.0",
      registry: "registry.test",
      repository: "app",
    };
    // text beyond ASCII survives the thread's read of the blob as text
    const withPath = () => {
      const made = inventory();
      made.packages[0]!.paths.push("/usr/share/doc/zürich-𝒳/copyright");
      return made;
    };
    await blobs.put("inventories/app.json", JSON.stringify(withPath()), { contentType: "application/json" });
    const stored = await thread.runStored("inventories/app.json", image, [], NOW);
    expect(stored && "report" in stored ? JSON.stringify(reportOf(stored).packages) : "").toContain(
      "zürich-𝒳",
    );
    const whole = withPath();
    whole.image.tags = image.tags;
    Object.assign(whole.image, { ref: image.ref, registry: image.registry, repository: image.repository });
    const sent = await thread.run(whole, [], NOW);
    expect(stored && "report" in stored ? reportOf(stored) : stored).toEqual(reportOf(sent!));
    expect(reportOf(sent!).image).toMatchObject({ tags: ["1.0", "latest"], repository: "app" });

    // jobs in flight together are spread over the threads, and each answer reaches its own caller
    const images = ["a", "b", "c", "d", "e", "f"].map((repository) => ({ ...image, repository }));
    const together = await Promise.all(
      images.map((i) => thread.runStored("inventories/app.json", i, [], NOW)),
    );
    expect(together.map((a) => (a && "report" in a ? reportOf(a).image.repository : a))).toEqual(
      images.map((i) => i.repository),
    );
    expect(await thread.runStored("inventories/none.json", image, [], NOW)).toEqual({ unreadable: {} });
    await blobs.put("inventories/torn.json", JSON.stringify(inventory()).slice(0, 40), {
      contentType: "application/json",
    });
    const torn = await thread.runStored("inventories/torn.json", image, [], NOW);
    expect(torn).toEqual({ unreadable: { corrupt: expect.stringMatching(/JSON/) } });
    await blobs.put("inventories/other.json", JSON.stringify({ hello: "world" }), {
      contentType: "application/json",
    });
    const other = await thread.runStored("inventories/other.json", image, [], NOW);
    expect(other).toEqual({ unreadable: { corrupt: expect.stringMatching(/^not an inventory/) } });
  });

  it("under a group commit, commits the open window only when it holds a blob the thread reads (the DB, the inventory)", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "portcullis-verdict-thread-"));
    const file = path.join(dir, "portcullis.sqlite");
    const db = openLocalStore(file);
    const blobs = new SqliteBlobStore(db);
    const flushes: boolean[] = [];
    const thread = new VerdictThread(
      file,
      (reads) => {
        const needed = blobs.uncommitted(reads);
        flushes.push(needed);
        if (needed) flushGroupCommit(db);
      },
      POLICY,
    );
    // a window far longer than the test: only a flush commits it
    const stop = startGroupCommit(db, 60_000);
    cleanups.push(async () => {
      await thread.close();
      stop();
      db.close();
      await rm(dir, { recursive: true, force: true });
    });
    const image = {
      tags: ["1.0"],
      ref: "registry.test/app:1.0",
      registry: "registry.test",
      repository: "app",
    };
    // the DB and the inventory written in the open window: the thread must see both
    await buildDbFromRecords(
      blobs,
      [osvRecord("CVE-2099-0005", "Debian:12", "openssl", [{ introduced: "0" }])],
      { now: NOW },
    );
    await blobs.put("inventories/app.json", JSON.stringify(inventory()), { contentType: "application/json" });
    const first = await thread.runStored("inventories/app.json", image, [], NOW);
    expect(first && "report" in first ? reportOf(first).findings.length : first).toBe(1);
    expect(flushes).toEqual([true]);
    expect(openWindowOf(db)).toBeUndefined();

    // a report written since (a blob the thread does not read) stays in its window
    await blobs.put("reports/app.json", "{}", { contentType: "application/json" });
    const window = openWindowOf(db);
    expect(window).toBeDefined();
    const second = await thread.runStored("inventories/app.json", image, [], NOW);
    expect(second && "report" in second).toBe(true);
    expect(flushes).toEqual([true, false]);
    expect(openWindowOf(db)).toBe(window);

    // a second inventory written in that same window is committed before the thread reads it
    await blobs.put("inventories/other.json", JSON.stringify(inventory()), {
      contentType: "application/json",
    });
    const third = await thread.runStored("inventories/other.json", image, [], NOW);
    expect(third && "report" in third).toBe(true);
    expect(flushes).toEqual([true, false, true]);
  });
});
