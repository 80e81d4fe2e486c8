import { describe, expect, it } from "vitest";
import type { TableStore } from "../../shared/ports/table-store.js";
import { TABLES } from "../../shared/stages/tables.js";
import {
  emptyLedgerEntry,
  streamsOfRepository,
  trackingStatusOf,
  writeLedger,
} from "../../shared/tracking/tracking-ledger.js";
import { MemoryTableStore } from "../support/memory-table-store.js";

/** The ledger's reads for the image API and delete events: the right streams, in one query. */
async function ledgerWith(
  rows: [key: string, repository: string, stream: string, issue: number, lastError?: string][],
) {
  const tables = new MemoryTableStore();
  for (const [key, repository, stream, issue, lastError] of rows)
    await writeLedger(
      tables,
      key,
      {
        ...emptyLedgerEntry({ registry: "r.test", repository, ...(stream ? { name: stream } : {}) }),
        owner: "acme",
        repo: "app",
        issueNumber: issue,
        issueState: issue ? "open" : "none",
        untracked: issue ? "" : "no mapping",
        lastError: lastError ?? "",
      },
      undefined,
    );
  let queries = 0;
  const counted = new Proxy(tables, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (prop !== "query") return typeof value === "function" ? value.bind(target) : value;
      return (table: string, ...rest: unknown[]) => {
        if (table === TABLES.tracking) queries++;
        return (target.query as (...a: unknown[]) => unknown)(table, ...rest);
      };
    },
  }) as TableStore;
  return { tables: counted, queries: () => queries };
}

const ROWS: [string, string, string, number, string?][] = [
  ["r.test/team/app", "team/app", "", 1],
  ["r.test/team/app#1.x", "team/app", "1.x", 2, "given up after 60 tries"],
  ["r.test/team/app-2", "team/app-2", "", 3],
  ["r.test/other/x", "other/x", "", 0],
];

describe("the tracking ledger's reads", () => {
  it("gives the image API each repository's streams (tag streams included, a longer name not) in one query", async () => {
    const { tables, queries } = await ledgerWith(ROWS);
    const status = await trackingStatusOf(tables, ["r.test/team/app", "r.test/other/x", "r.test/team/app"]);
    expect(queries()).toBe(1);
    expect(Object.fromEntries(status)).toEqual({
      "r.test/team/app": [
        { stream: "r.test/team/app", issue: "acme/app#1", state: "open" },
        {
          stream: "r.test/team/app#1.x",
          issue: "acme/app#2",
          state: "open",
          error: "given up after 60 tries",
        },
      ],
      "r.test/other/x": [{ stream: "r.test/other/x", untracked: "no mapping" }],
    });
  });

  it("asks nothing when no repository is listed", async () => {
    const { tables, queries } = await ledgerWith(ROWS);
    expect((await trackingStatusOf(tables, [])).size).toBe(0);
    expect(queries()).toBe(0);
  });

  it("finds every stream of a repository a delete event reaches, and no other", async () => {
    const { tables } = await ledgerWith(ROWS);
    const streams = await streamsOfRepository(tables, { registry: "r.test", repository: "team/app" });
    expect(streams.map((s) => [s.key, s.name])).toEqual([
      ["r.test/team/app", undefined],
      ["r.test/team/app#1.x", "1.x"],
    ]);
  });
});
