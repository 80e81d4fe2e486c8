import { z } from "zod";
import { jsonProperty } from "../ports/json-property.js";
import type { TableProperties, TableStore, TableWrite } from "../ports/table-store.js";
import { TABLES } from "../stages/tables.js";

/**
 * The `tracking` table: one row per tracked image stream, the truth about its GitHub issue. Every
 * write is ETag-guarded, so concurrent verdicts for one stream serialize on it; an intent is
 * recorded before GitHub is called, so a retry after a crash knows to look before it writes.
 */
const json = jsonProperty;

/** What the stream points at on one platform: the digest most recently pushed, and when. */
export const StreamPointerSchema = z.object({
  digest: z.string(),
  /** when it was pushed (the scan's creation, or the push of an already-scanned digest) */
  at: z.string(),
  /** the image's org.opencontainers.image.source label ("" when it has none) */
  source: z.string().optional(),
  /** the stream's tags that name this image (a tag delete drops the image when none is left); absent on rows older than tags */
  tags: z.array(z.string()).optional(),
});
export type StreamPointer = z.infer<typeof StreamPointerSchema>;

export const LedgerEntrySchema = z.object({
  registry: z.string(),
  repository: z.string(),
  /** the tag stream's name, "" for the whole repository */
  stream: z.string(),
  owner: z.string(),
  repo: z.string(),
  /** why the stream has no issue (no label, no mapping); "" when tracked */
  untracked: z.string(),
  issueNumber: z.number().int().nonnegative(),
  issueState: z.enum(["none", "open", "closed"]),
  closedBy: z.enum(["", "portcullis", "person"]),
  bodyHash: z.string(),
  labels: z.array(z.string()),
  active: z.array(z.string()),
  dismissed: z.array(z.string()),
  /** finding key → YYYY-MM-DD it was first seen in this stream */
  firstSeen: z.record(z.string(), z.string()),
  /** platform → pointer */
  images: z.record(z.string(), StreamPointerSchema),
  /** set while GitHub is being written to: who started, when, and what */
  pending: z.object({ startedAt: z.string(), summary: z.string() }).nullable(),
  deleted: z.boolean(),
  lastError: z.string(),
  updatedAt: z.string(),
  /** seeded from GitHub's issues while the ledger was rebuilt: the issue as it is now is the baseline */
  rebuilt: z.boolean().optional(),
});
export type LedgerEntry = z.infer<typeof LedgerEntrySchema>;

const RowSchema = LedgerEntrySchema.extend({
  labels: json(z.array(z.string())),
  active: json(z.array(z.string())),
  dismissed: json(z.array(z.string())),
  firstSeen: json(z.record(z.string(), z.string())),
  images: json(z.record(z.string(), StreamPointerSchema)),
  pending: json(z.object({ startedAt: z.string(), summary: z.string() }).nullable()),
});

const ROW = "stream";

export function emptyLedgerEntry(stream: {
  registry: string;
  repository: string;
  name?: string;
}): LedgerEntry {
  return {
    registry: stream.registry,
    repository: stream.repository,
    stream: stream.name ?? "",
    owner: "",
    repo: "",
    untracked: "",
    issueNumber: 0,
    issueState: "none",
    closedBy: "",
    bodyHash: "",
    labels: [],
    active: [],
    dismissed: [],
    firstSeen: {},
    images: {},
    pending: null,
    deleted: false,
    lastError: "",
    updatedAt: "",
  };
}

function toProperties(e: LedgerEntry): TableProperties {
  return {
    ...e,
    labels: JSON.stringify(e.labels),
    active: JSON.stringify(e.active),
    dismissed: JSON.stringify(e.dismissed),
    firstSeen: JSON.stringify(e.firstSeen),
    images: JSON.stringify(e.images),
    pending: JSON.stringify(e.pending),
  };
}

export interface LedgerRead {
  entry: LedgerEntry;
  etag: string;
}

/** The stream's row; a row that does not parse is treated as lost (rebuilt from GitHub). */
export async function readLedger(tables: TableStore, key: string): Promise<LedgerRead | undefined> {
  const row = await tables.get(TABLES.tracking, key, ROW);
  if (!row) return undefined;
  const parsed = RowSchema.safeParse(row.properties);
  return parsed.success ? { entry: parsed.data, etag: row.etag } : undefined;
}

/** Insert (no ETag: only if absent) or replace (only if the ETag still holds). */
export function writeLedger(
  tables: TableStore,
  key: string,
  entry: LedgerEntry,
  etag: string | undefined,
): Promise<TableWrite> {
  return etag === undefined
    ? tables.insertIfAbsent(TABLES.tracking, key, ROW, toProperties(entry))
    : tables.updateIfMatch(TABLES.tracking, key, ROW, toProperties(entry), etag);
}

/** The stream an issue belongs to, found by its repository and number (webhook events). */
export async function findLedgerByIssue(
  tables: TableStore,
  issue: { owner: string; repo: string; number: number },
): Promise<(LedgerRead & { key: string }) | undefined> {
  for await (const row of tables.query(TABLES.tracking, {
    where: { owner: issue.owner, repo: issue.repo, issueNumber: issue.number },
  })) {
    const parsed = RowSchema.safeParse(row.properties);
    if (parsed.success) return { key: row.partitionKey, entry: parsed.data, etag: row.etag };
  }
  return undefined;
}

/** Every ledger row (the image API's tracking column, the bench). */
export async function* listLedger(tables: TableStore): AsyncIterable<LedgerRead & { key: string }> {
  for await (const row of tables.query(TABLES.tracking, {})) {
    const parsed = RowSchema.safeParse(row.properties);
    if (parsed.success) yield { key: row.partitionKey, entry: parsed.data, etag: row.etag };
  }
}

/** The rows of one image repository: the repository's own stream and its tag streams (`key#name`). */
async function* rowsOfRepositories(
  tables: TableStore,
  repositories: ReadonlySet<string>,
): AsyncIterable<LedgerRead & { key: string; repository: string }> {
  // one query over the repositories' common prefix; a prefix also finds `team/app-2` for `team/app`
  for await (const row of tables.query(TABLES.tracking, {
    partitionKeyPrefix: commonPrefix([...repositories]),
  })) {
    const repository = row.partitionKey.split("#")[0]!;
    if (!repositories.has(repository)) continue;
    const parsed = RowSchema.safeParse(row.properties);
    if (parsed.success) yield { key: row.partitionKey, repository, entry: parsed.data, etag: row.etag };
  }
}

function commonPrefix(keys: readonly string[]): string {
  if (keys.length === 0) return "";
  let prefix = keys[0]!;
  for (const key of keys.slice(1)) while (!key.startsWith(prefix)) prefix = prefix.slice(0, -1);
  return prefix;
}

/** The streams recorded for one image repository (a delete event reaches every one of them). */
export async function streamsOfRepository(
  tables: TableStore,
  image: { registry: string; repository: string },
): Promise<{ registry: string; repository: string; name?: string; key: string }[]> {
  const out: { registry: string; repository: string; name?: string; key: string }[] = [];
  for await (const row of rowsOfRepositories(tables, new Set([`${image.registry}/${image.repository}`])))
    out.push({
      registry: image.registry,
      repository: image.repository,
      ...(row.entry.stream ? { name: row.entry.stream } : {}),
      key: row.key,
    });
  return out;
}

/** What the image API shows of a repository's tracking: its streams' issues, or why it is untracked. */
export interface TrackingStatus {
  stream: string;
  issue?: string;
  state?: "open" | "closed";
  untracked?: string;
  /** why the issue lags behind the verdict (GitHub stayed unreachable) */
  error?: string;
}

/** The tracking status of each image repository (`registry/repository`) asked for, in one query. */
export async function trackingStatusOf(
  tables: TableStore,
  repositories: readonly string[],
): Promise<Map<string, TrackingStatus[]>> {
  const out = new Map<string, TrackingStatus[]>();
  if (repositories.length === 0) return out;
  for await (const { key, repository, entry: e } of rowsOfRepositories(tables, new Set(repositories))) {
    const status: TrackingStatus = { stream: key };
    if (e.issueNumber > 0 && e.issueState !== "none")
      Object.assign(status, { issue: `${e.owner}/${e.repo}#${e.issueNumber}`, state: e.issueState });
    else if (e.untracked) status.untracked = e.untracked;
    if (e.lastError) status.error = e.lastError;
    out.set(repository, [...(out.get(repository) ?? []), status]);
  }
  return out;
}

/** The row saying the ledger holds every stream of one GitHub repository (its own partition, beside the streams'). */
const COVERED_ROW = "github-repository";
const coveredKey = (repo: { owner: string; repo: string }) => `github:${repo.owner}/${repo.repo}`;

/**
 * Whether the ledger was rebuilt from this GitHub repository's issues since it was last lost: then a
 * stream without a row is new, and no look-up by marker is needed before creating its issue.
 */
export async function ledgerCovers(
  tables: TableStore,
  repo: { owner: string; repo: string },
): Promise<boolean> {
  return (await tables.get(TABLES.tracking, coveredKey(repo), COVERED_ROW)) !== undefined;
}

export async function markLedgerCovers(
  tables: TableStore,
  repo: { owner: string; repo: string },
  at: Date,
): Promise<void> {
  await tables.upsert(TABLES.tracking, coveredKey(repo), COVERED_ROW, { rebuiltAt: at.toISOString() });
}
