/**
 * Entities in tables (images, findings, scans, package index, tracking, exceptions, events).
 * Adapters: Azure Table Storage / Azurite (`azure-table-store.ts`) and memory for unit tests (`test/support/memory-table-store.ts`).
 *
 * Keys are passed and returned as plain strings ("docker.io/library/nginx"); adapters encode them
 * with `encodeTableKey` so callers never see the `/ \ # ?` restriction. Property values are flat:
 * strings, finite numbers and booleans. Anything structured is stored as a JSON string by the caller
 * (Table Storage has no nested values), dates as ISO-8601 strings.
 */

export type TableValue = string | number | boolean;
export type TableProperties = Record<string, TableValue>;

export interface TableRow<P extends TableProperties = TableProperties> {
  partitionKey: string;
  rowKey: string;
  /** opaque version of the row; pass it to `updateIfMatch`/`delete` for optimistic concurrency */
  etag: string;
  properties: P;
}

/**
 * Why a conditional write did not happen: "changed" — someone else wrote the row since the ETag was
 * read (HTTP 412); "missing" — the row is gone; "exists" — insert-if-absent found a row. The caller
 * re-reads and retries; it is an expected outcome, not an error.
 */
export type TableConflict = { ok: false; conflict: "changed" | "missing" | "exists" };
export type TableWrite = { ok: true; etag: string } | TableConflict;

export interface TableQuery {
  /** exact partition; omit to scan every partition (use `partitionKeyPrefix` to narrow it) */
  partitionKey?: string;
  /** every partition whose key starts with this (raw, unencoded) prefix */
  partitionKeyPrefix?: string;
  rowKeyPrefix?: string;
  /** equality on properties, all must hold */
  where?: TableProperties;
  /** stop after this many rows */
  limit?: number;
}

export interface TableStore {
  get(table: string, partitionKey: string, rowKey: string): Promise<TableRow | undefined>;
  /** Creates or replaces the whole row (properties not given are removed). Returns the new ETag. */
  upsert(table: string, partitionKey: string, rowKey: string, properties: TableProperties): Promise<string>;
  /**
   * Creates or replaces rows of one partition, in transactions of at most `TABLE_BATCH_ROWS` rows (Azure
   * Tables' limit); a crash may leave earlier chunks written, so callers write idempotent sets. A row
   * key given twice is written once, with its last properties.
   */
  upsertMany(table: string, partitionKey: string, rows: readonly TableBatchRow[]): Promise<void>;
  insertIfAbsent(
    table: string,
    partitionKey: string,
    rowKey: string,
    properties: TableProperties,
  ): Promise<TableWrite>;
  /** Replaces the row only if it still has `etag`. */
  updateIfMatch(
    table: string,
    partitionKey: string,
    rowKey: string,
    properties: TableProperties,
    etag: string,
  ): Promise<TableWrite>;
  /** Deletes the row (only if it still has `etag`, when given). Deleting a missing row is fine. */
  delete(
    table: string,
    partitionKey: string,
    rowKey: string,
    options?: { etag?: string },
  ): Promise<TableWrite>;
  /** Rows in key order (partition, then row). */
  query(table: string, query: TableQuery): AsyncIterable<TableRow>;
}

/** One row of an `upsertMany`. */
export interface TableBatchRow {
  rowKey: string;
  properties: TableProperties;
}

/** Azure Tables takes at most 100 operations in one entity group transaction. */
export const TABLE_BATCH_ROWS = 100;

/** The rows, each key once (the last wins), in chunks a transaction takes. */
export function batchChunks(rows: readonly TableBatchRow[]): TableBatchRow[][] {
  const unique = [...new Map(rows.map((r) => [r.rowKey, r])).values()];
  const chunks: TableBatchRow[][] = [];
  for (let i = 0; i < unique.length; i += TABLE_BATCH_ROWS)
    chunks.push(unique.slice(i, i + TABLE_BATCH_ROWS));
  return chunks;
}

/** Table names the service accepts: alphanumeric, 3–63 characters, starting with a letter. */
export const TABLE_NAME = /^[A-Za-z][A-Za-z0-9]{2,62}$/;

export function assertTableName(table: string): void {
  if (!TABLE_NAME.test(table))
    throw new TypeError(`invalid table name "${table}" (alphanumeric, 3–63, letter first)`);
}

/** Property names the service accepts: an identifier of at most 255 characters. */
export const TABLE_PROPERTY_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,254}$/;

export function assertTablePropertyName(name: string): void {
  if (!TABLE_PROPERTY_NAME.test(name)) throw new TypeError(`invalid table property name "${name}"`);
}

/** A query's filter names properties the service could hold (every adapter refuses the same ones). */
export function assertTableQuery(query: TableQuery): void {
  for (const name of Object.keys(query.where ?? {})) assertTablePropertyName(name);
}

/**
 * Names and values Table Storage round-trips exactly: no NaN/Infinity, no undefined. Every adapter
 * checks a row here, so a row that a local store takes is one Azure takes too.
 */
export function assertTableProperties(properties: TableProperties): void {
  for (const [name, value] of Object.entries(properties)) {
    assertTablePropertyName(name);
    if (
      ["PartitionKey", "RowKey", "Timestamp", "partitionKey", "rowKey", "etag", "timestamp"].includes(name)
    ) {
      throw new TypeError(`"${name}" is a reserved table property name`);
    }
    const t = typeof value;
    if (t === "number" ? !Number.isFinite(value) : t !== "string" && t !== "boolean") {
      throw new TypeError(`table property "${name}" must be a string, a finite number or a boolean`);
    }
  }
}
