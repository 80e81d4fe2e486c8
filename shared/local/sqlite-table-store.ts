import { randomUUID } from "node:crypto";
import { decodeTableKey, encodeTableKey } from "../ports/table-key.js";
import {
  assertTableName,
  assertTableProperties,
  assertTableQuery,
  type TableBatchRow,
  type TableProperties,
  type TableQuery,
  type TableRow,
  type TableStore,
  type TableWrite,
} from "../ports/table-store.js";
import { type SqliteDatabase, prepared, transaction } from "./sqlite-database.js";

/** Rows read per query round trip: the iterator never holds a statement open across an await. */
const PAGE_ROWS = 256;

interface StoredRow {
  pk: string;
  rk: string;
  etag: string;
  props: string;
}

/**
 * TableStore in the local host's SQLite file: the Azure adapter's semantics (encoded keys, ETags,
 * insert-if-absent, key-ordered queries), each write one committed transaction. Keys are ordered
 * by their encoded UTF-8 bytes (code point order).
 */
export class SqliteTableStore implements TableStore {
  readonly #db: SqliteDatabase;

  constructor(db: SqliteDatabase) {
    this.#db = db;
  }

  async get(table: string, partitionKey: string, rowKey: string): Promise<TableRow | undefined> {
    const row = prepared<[string, string, string], StoredRow>(
      this.#db,
      "SELECT pk, rk, etag, props FROM table_rows WHERE tbl = ? AND pk = ? AND rk = ?",
    ).get(tableId(table), encodeTableKey(partitionKey), encodeTableKey(rowKey));
    return row && toRow(row);
  }

  async upsert(
    table: string,
    partitionKey: string,
    rowKey: string,
    properties: TableProperties,
  ): Promise<string> {
    const etag = newEtag();
    prepared(
      this.#db,
      `INSERT INTO table_rows (tbl, pk, rk, etag, props) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (tbl, pk, rk) DO UPDATE SET etag = excluded.etag, props = excluded.props`,
    ).run(...this.#values(table, partitionKey, rowKey, properties), etag, propsJson(properties));
    return etag;
  }

  async upsertMany(table: string, partitionKey: string, rows: readonly TableBatchRow[]): Promise<void> {
    const statement = prepared(
      this.#db,
      `INSERT INTO table_rows (tbl, pk, rk, etag, props) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (tbl, pk, rk) DO UPDATE SET etag = excluded.etag, props = excluded.props`,
    );
    // one commit for the whole set, where row-by-row upserts pay one each
    transaction(this.#db, () => {
      for (const r of rows)
        statement.run(
          ...this.#values(table, partitionKey, r.rowKey, r.properties),
          newEtag(),
          propsJson(r.properties),
        );
    });
  }

  async insertIfAbsent(
    table: string,
    partitionKey: string,
    rowKey: string,
    properties: TableProperties,
  ): Promise<TableWrite> {
    const etag = newEtag();
    const { changes } = prepared(
      this.#db,
      "INSERT OR IGNORE INTO table_rows (tbl, pk, rk, etag, props) VALUES (?, ?, ?, ?, ?)",
    ).run(...this.#values(table, partitionKey, rowKey, properties), etag, propsJson(properties));
    return changes === 1 ? { ok: true, etag } : { ok: false, conflict: "exists" };
  }

  async updateIfMatch(
    table: string,
    partitionKey: string,
    rowKey: string,
    properties: TableProperties,
    etag: string,
  ): Promise<TableWrite> {
    const next = newEtag();
    const [tbl, pk, rk] = this.#values(table, partitionKey, rowKey, properties);
    const props = propsJson(properties);
    // compare and swap in one transaction: no writer can slip in between the check and the write
    return transaction(this.#db, (): TableWrite => {
      const { changes } = prepared(
        this.#db,
        "UPDATE table_rows SET etag = ?, props = ? WHERE tbl = ? AND pk = ? AND rk = ? AND etag = ?",
      ).run(next, props, tbl, pk, rk, etag);
      if (changes === 1) return { ok: true, etag: next };
      return { ok: false, conflict: this.#exists(tbl, pk, rk) ? "changed" : "missing" };
    });
  }

  async delete(
    table: string,
    partitionKey: string,
    rowKey: string,
    options: { etag?: string } = {},
  ): Promise<TableWrite> {
    const [tbl, pk, rk] = [tableId(table), encodeTableKey(partitionKey), encodeTableKey(rowKey)];
    const { etag } = options;
    if (etag === undefined) {
      prepared(this.#db, "DELETE FROM table_rows WHERE tbl = ? AND pk = ? AND rk = ?").run(tbl, pk, rk);
      return { ok: true, etag: "" };
    }
    return transaction(this.#db, (): TableWrite => {
      const { changes } = prepared(
        this.#db,
        "DELETE FROM table_rows WHERE tbl = ? AND pk = ? AND rk = ? AND etag = ?",
      ).run(tbl, pk, rk, etag);
      if (changes === 1) return { ok: true, etag: "" };
      return { ok: false, conflict: this.#exists(tbl, pk, rk) ? "changed" : "missing" };
    });
  }

  async *query(table: string, query: TableQuery): AsyncIterable<TableRow> {
    const tbl = tableId(table);
    assertTableQuery(query);
    let remaining = query.limit ?? Number.POSITIVE_INFINITY;
    if (remaining <= 0) return;
    const pkPrefix = query.partitionKeyPrefix === undefined ? "" : encodeTableKey(query.partitionKeyPrefix);
    const rkPrefix = query.rowKeyPrefix === undefined ? "" : encodeTableKey(query.rowKeyPrefix);
    const exactPk = query.partitionKey === undefined ? undefined : encodeTableKey(query.partitionKey);
    const where = Object.entries(query.where ?? {});
    // keyset paging: each page starts after the last key of the one before
    let after: [string, string] | undefined;
    for (;;) {
      const clauses = ["tbl = ?"];
      const params: string[] = [tbl];
      if (exactPk !== undefined) {
        clauses.push("pk = ?");
        params.push(exactPk);
      }
      if (pkPrefix !== "") {
        clauses.push("pk >= ?");
        params.push(pkPrefix);
      }
      if (after) {
        clauses.push("(pk, rk) > (?, ?)");
        params.push(...after);
      }
      const page = prepared<string[], StoredRow>(
        this.#db,
        `SELECT pk, rk, etag, props FROM table_rows WHERE ${clauses.join(" AND ")} ORDER BY pk, rk LIMIT ${PAGE_ROWS}`,
      ).all(...params);
      for (const stored of page) {
        // rows come in key order: the first partition past the prefix ends the query
        if (!stored.pk.startsWith(pkPrefix)) return;
        if (!stored.rk.startsWith(rkPrefix)) continue;
        const row = toRow(stored);
        if (!where.every(([name, value]) => row.properties[name] === value)) continue;
        yield row;
        if (--remaining <= 0) return;
      }
      if (page.length < PAGE_ROWS) return;
      const last = page[page.length - 1]!;
      after = [last.pk, last.rk];
    }
  }

  #values(
    table: string,
    partitionKey: string,
    rowKey: string,
    properties: TableProperties,
  ): [string, string, string] {
    assertTableProperties(properties);
    return [tableId(table), encodeTableKey(partitionKey), encodeTableKey(rowKey)];
  }

  #exists(tbl: string, pk: string, rk: string): boolean {
    return (
      prepared(this.#db, "SELECT 1 FROM table_rows WHERE tbl = ? AND pk = ? AND rk = ?").get(tbl, pk, rk) !==
      undefined
    );
  }
}

/** Table names are case-insensitive, as in the service. */
function tableId(table: string): string {
  assertTableName(table);
  return table.toLowerCase();
}

const newEtag = () => `W/"${randomUUID()}"`;

const propsJson = (properties: TableProperties) => JSON.stringify(properties);

function toRow(row: StoredRow): TableRow {
  return {
    partitionKey: decodeTableKey(row.pk),
    rowKey: decodeTableKey(row.rk),
    etag: row.etag,
    properties: JSON.parse(row.props) as TableProperties,
  };
}
