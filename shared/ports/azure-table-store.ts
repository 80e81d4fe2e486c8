import type { TokenCredential } from "@azure/core-auth";
import { RestError, TableClient, type TableEntityResult, TableServiceClient } from "@azure/data-tables";
import { decodeTableKey, encodeTableKey } from "./table-key.js";
import {
  assertTableName,
  assertTableProperties,
  assertTableQuery,
  batchChunks,
  type TableBatchRow,
  type TableProperties,
  type TableQuery,
  type TableRow,
  type TableStore,
  type TableValue,
  type TableWrite,
} from "./table-store.js";

export type AzureTableStoreOptions =
  /** Azurite, or an account key in a connection string */
  | { connectionString: string }
  /** identity-based: `https://<account>.table.core.windows.net` and a managed identity / workload credential */
  | { accountUrl: string; credential: TokenCredential };

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const SYSTEM_PROPERTIES = new Set(["partitionKey", "rowKey", "etag", "timestamp", "odata.metadata"]);

/** TableStore on Azure Table Storage (and Azurite) via `@azure/data-tables`. Tables are created on first use. */
export class AzureTableStore implements TableStore {
  readonly #service: TableServiceClient;
  readonly #client: (table: string) => TableClient;
  readonly #clients = new Map<string, Promise<TableClient>>();

  constructor(options: AzureTableStoreOptions) {
    if ("connectionString" in options) {
      const cs = options.connectionString;
      // Azurite speaks plain HTTP on loopback; the SDK refuses that unless told.
      const clientOptions = { allowInsecureConnection: /TableEndpoint=http:\/\//i.test(cs) };
      this.#service = TableServiceClient.fromConnectionString(cs, clientOptions);
      this.#client = (table) => TableClient.fromConnectionString(cs, table, clientOptions);
    } else {
      this.#service = new TableServiceClient(options.accountUrl, options.credential);
      this.#client = (table) => new TableClient(options.accountUrl, table, options.credential);
    }
  }

  async get(table: string, partitionKey: string, rowKey: string): Promise<TableRow | undefined> {
    const client = await this.#table(table);
    try {
      const entity = await client.getEntity(encodeTableKey(partitionKey), encodeTableKey(rowKey));
      return toRow(entity);
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw err;
    }
  }

  async upsert(
    table: string,
    partitionKey: string,
    rowKey: string,
    properties: TableProperties,
  ): Promise<string> {
    const client = await this.#table(table);
    const response = await client.upsertEntity(toEntity(partitionKey, rowKey, properties), "Replace");
    return response.etag ?? "";
  }

  async upsertMany(table: string, partitionKey: string, rows: readonly TableBatchRow[]): Promise<void> {
    const client = await this.#table(table);
    for (const chunk of batchChunks(rows))
      await client.submitTransaction(
        chunk.map((r) => ["upsert", toEntity(partitionKey, r.rowKey, r.properties), "Replace"] as const),
      );
  }

  async insertIfAbsent(
    table: string,
    partitionKey: string,
    rowKey: string,
    properties: TableProperties,
  ): Promise<TableWrite> {
    const client = await this.#table(table);
    try {
      const response = await client.createEntity(toEntity(partitionKey, rowKey, properties));
      return { ok: true, etag: response.etag ?? "" };
    } catch (err) {
      if (statusOf(err) === 409) return { ok: false, conflict: "exists" };
      throw err;
    }
  }

  async updateIfMatch(
    table: string,
    partitionKey: string,
    rowKey: string,
    properties: TableProperties,
    etag: string,
  ): Promise<TableWrite> {
    const client = await this.#table(table);
    try {
      const entity = toEntity(partitionKey, rowKey, properties);
      const response = await client.updateEntity(entity, "Replace", { etag });
      return { ok: true, etag: response.etag ?? "" };
    } catch (err) {
      return conflictOrThrow(err);
    }
  }

  async delete(
    table: string,
    partitionKey: string,
    rowKey: string,
    options: { etag?: string } = {},
  ): Promise<TableWrite> {
    const client = await this.#table(table);
    try {
      await client.deleteEntity(encodeTableKey(partitionKey), encodeTableKey(rowKey), {
        etag: options.etag ?? "*",
      });
      return { ok: true, etag: "" };
    } catch (err) {
      if (statusOf(err) === 404 && options.etag === undefined) return { ok: true, etag: "" };
      return conflictOrThrow(err);
    }
  }

  async *query(table: string, query: TableQuery): AsyncIterable<TableRow> {
    const client = await this.#table(table);
    const filter = buildFilter(query);
    let remaining = query.limit ?? Number.POSITIVE_INFINITY;
    if (remaining <= 0) return;
    const entities = client.listEntities({ queryOptions: filter ? { filter } : {} });
    for await (const entity of entities) {
      yield toRow(entity);
      if (--remaining <= 0) return;
    }
  }

  #table(table: string): Promise<TableClient> {
    assertTableName(table);
    let client = this.#clients.get(table);
    if (!client) {
      client = this.#service.createTable(table).then(() => this.#client(table));
      // A failed create (network, auth) must not poison the cache: the next call tries again.
      client.catch(() => this.#clients.delete(table));
      this.#clients.set(table, client);
    }
    return client;
  }
}

function statusOf(err: unknown): number | undefined {
  return err instanceof RestError ? err.statusCode : undefined;
}

function conflictOrThrow(err: unknown): TableWrite {
  const status = statusOf(err);
  if (status === 412) return { ok: false, conflict: "changed" };
  if (status === 404) return { ok: false, conflict: "missing" };
  throw err;
}

type WireValue = TableValue | { value: string; type: "Double" };

function toEntity(partitionKey: string, rowKey: string, properties: TableProperties) {
  assertTableProperties(properties);
  const entity: Record<string, WireValue> = {};
  for (const [name, value] of Object.entries(properties)) {
    // Untyped JSON integers are stored as Int32, which overflows: anything else goes as an explicit Double.
    entity[name] =
      typeof value === "number" && !(Number.isInteger(value) && value >= INT32_MIN && value <= INT32_MAX)
        ? { value: String(value), type: "Double" }
        : value;
  }
  return { ...entity, partitionKey: encodeTableKey(partitionKey), rowKey: encodeTableKey(rowKey) };
}

function toRow(entity: TableEntityResult<Record<string, unknown>>): TableRow {
  const properties: TableProperties = {};
  for (const [name, value] of Object.entries(entity)) {
    if (SYSTEM_PROPERTIES.has(name)) continue;
    const plain = fromWire(value);
    if (plain !== undefined) properties[name] = plain;
  }
  return {
    partitionKey: decodeTableKey(entity.partitionKey ?? ""),
    rowKey: decodeTableKey(entity.rowKey ?? ""),
    etag: entity.etag,
    properties,
  };
}

/** Rows written by other tools may hold Int64, DateTime or Guid values: map them onto the port's types. */
function fromWire(value: unknown): TableValue | undefined {
  if (typeof value === "string" || typeof value === "boolean" || typeof value === "number") return value;
  if (typeof value === "bigint") return Number(value);
  if (value instanceof Date) return value.toISOString();
  if (typeof value === "object" && value !== null && "value" in value && typeof value.value === "string") {
    return value.value;
  }
  return undefined;
}

function literal(value: TableValue): string {
  if (typeof value === "string") return `'${value.replace(/'/g, "''")}'`;
  return String(value);
}

/** The smallest string greater than every string that starts with `prefix`. */
function prefixUpperBound(prefix: string): string | undefined {
  for (let i = prefix.length - 1; i >= 0; i--) {
    const code = prefix.charCodeAt(i);
    if (code < 0xffff) return prefix.slice(0, i) + String.fromCharCode(code + 1);
  }
  return undefined;
}

function rangeFilter(property: string, prefix: string): string[] {
  const encoded = encodeTableKey(prefix);
  if (encoded === "") return [];
  const upper = prefixUpperBound(encoded);
  const clauses = [`${property} ge ${literal(encoded)}`];
  if (upper !== undefined) clauses.push(`${property} lt ${literal(upper)}`);
  return clauses;
}

function buildFilter(query: TableQuery): string | undefined {
  assertTableQuery(query);
  const clauses: string[] = [];
  if (query.partitionKey !== undefined)
    clauses.push(`PartitionKey eq ${literal(encodeTableKey(query.partitionKey))}`);
  if (query.partitionKeyPrefix !== undefined)
    clauses.push(...rangeFilter("PartitionKey", query.partitionKeyPrefix));
  if (query.rowKeyPrefix !== undefined) clauses.push(...rangeFilter("RowKey", query.rowKeyPrefix));
  for (const [name, value] of Object.entries(query.where ?? {})) {
    clauses.push(`${name} eq ${literal(value)}`);
  }
  return clauses.length > 0 ? clauses.join(" and ") : undefined;
}
