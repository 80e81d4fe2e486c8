import { encodeTableKey } from "../../shared/ports/table-key.js";
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
} from "../../shared/ports/table-store.js";

/**
 * TableStore in memory, for unit tests of stages: the Azure adapter's semantics (ETags, conflicts,
 * key rules, key-ordered queries) without a server.
 */
export class MemoryTableStore implements TableStore {
  readonly #tables = new Map<string, Map<string, TableRow>>();
  #version = 0;

  async get(table: string, partitionKey: string, rowKey: string): Promise<TableRow | undefined> {
    const row = this.#rows(table).get(rowId(partitionKey, rowKey));
    return row && copy(row);
  }

  async upsert(
    table: string,
    partitionKey: string,
    rowKey: string,
    properties: TableProperties,
  ): Promise<string> {
    return this.#write(table, partitionKey, rowKey, properties);
  }

  async upsertMany(table: string, partitionKey: string, rows: readonly TableBatchRow[]): Promise<void> {
    for (const r of rows) this.#write(table, partitionKey, r.rowKey, r.properties);
  }

  async insertIfAbsent(
    table: string,
    partitionKey: string,
    rowKey: string,
    properties: TableProperties,
  ): Promise<TableWrite> {
    if (this.#rows(table).has(rowId(partitionKey, rowKey))) return { ok: false, conflict: "exists" };
    return { ok: true, etag: this.#write(table, partitionKey, rowKey, properties) };
  }

  async updateIfMatch(
    table: string,
    partitionKey: string,
    rowKey: string,
    properties: TableProperties,
    etag: string,
  ): Promise<TableWrite> {
    const current = this.#rows(table).get(rowId(partitionKey, rowKey));
    if (!current) return { ok: false, conflict: "missing" };
    if (current.etag !== etag) return { ok: false, conflict: "changed" };
    return { ok: true, etag: this.#write(table, partitionKey, rowKey, properties) };
  }

  async delete(
    table: string,
    partitionKey: string,
    rowKey: string,
    options: { etag?: string } = {},
  ): Promise<TableWrite> {
    const rows = this.#rows(table);
    const id = rowId(partitionKey, rowKey);
    const current = rows.get(id);
    if (options.etag !== undefined) {
      if (!current) return { ok: false, conflict: "missing" };
      if (current.etag !== options.etag) return { ok: false, conflict: "changed" };
    }
    rows.delete(id);
    return { ok: true, etag: "" };
  }

  async *query(table: string, query: TableQuery): AsyncIterable<TableRow> {
    assertTableQuery(query);
    const matching = [...this.#rows(table).entries()]
      .filter(([, row]) => matches(row, query))
      // The service orders by encoded keys; so do we, or tests would pass here and fail on Azure.
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .slice(0, query.limit ?? Number.POSITIVE_INFINITY);
    for (const [, row] of matching) yield copy(row);
  }

  #rows(table: string): Map<string, TableRow> {
    assertTableName(table);
    const key = table.toLowerCase(); // table names are case-insensitive
    let rows = this.#tables.get(key);
    if (!rows) {
      rows = new Map();
      this.#tables.set(key, rows);
    }
    return rows;
  }

  #write(table: string, partitionKey: string, rowKey: string, properties: TableProperties): string {
    assertTableProperties(properties);
    const etag = `W/"${++this.#version}"`;
    this.#rows(table).set(rowId(partitionKey, rowKey), {
      partitionKey,
      rowKey,
      etag,
      properties: { ...properties },
    });
    return etag;
  }
}

/** Encoding validates the keys exactly as the Azure adapter does; \0 cannot occur in an encoded key. */
const rowId = (partitionKey: string, rowKey: string): string =>
  `${encodeTableKey(partitionKey)}\0${encodeTableKey(rowKey)}`;

const copy = (row: TableRow): TableRow => ({ ...row, properties: { ...row.properties } });

function matches(row: TableRow, query: TableQuery): boolean {
  if (query.partitionKey !== undefined && row.partitionKey !== query.partitionKey) return false;
  if (query.partitionKeyPrefix !== undefined && !row.partitionKey.startsWith(query.partitionKeyPrefix))
    return false;
  if (query.rowKeyPrefix !== undefined && !row.rowKey.startsWith(query.rowKeyPrefix)) return false;
  return Object.entries(query.where ?? {}).every(([name, value]) => row.properties[name] === value);
}
