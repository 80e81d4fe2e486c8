import { mkdirSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";

export type SqliteDatabase = Database.Database;

const statements = new WeakMap<SqliteDatabase, Map<string, Database.Statement>>();
/** Distinct SQL texts kept per database; the stores use a few dozen, so this only bounds a mistake. */
const MAX_CACHED_STATEMENTS = 256;

/**
 * `db.prepare(sql)`, prepared once per database: preparing costs more than a small write. A writing
 * statement joins the database's group commit first, when it has one (`startGroupCommit`).
 */
export function prepared<P extends unknown[] = unknown[], R = unknown>(
  db: SqliteDatabase,
  sql: string,
): Database.Statement<P, R> {
  const statement = preparedOnce<P, R>(db, sql);
  if (!statement.reader) groups.get(db)?.join();
  return statement;
}

/** `db.transaction(body)()` inside the database's group commit, when it has one. */
export function transaction<T>(db: SqliteDatabase, body: () => T): T {
  groups.get(db)?.join();
  return db.transaction(body)();
}

function preparedOnce<P extends unknown[], R>(db: SqliteDatabase, sql: string): Database.Statement<P, R> {
  let cache = statements.get(db);
  if (!cache) {
    cache = new Map();
    statements.set(db, cache);
  }
  let statement = cache.get(sql);
  if (!statement) {
    if (cache.size >= MAX_CACHED_STATEMENTS) cache.clear();
    statement = db.prepare(sql);
    cache.set(sql, statement);
  }
  return statement as unknown as Database.Statement<P, R>;
}

/** The file the local host keeps its tables, queues and blobs in, inside its data dir. */
export const LOCAL_STORE_FILE = "portcullis.sqlite";

/**
 * Opens the local host's store: WAL journal with `synchronous=NORMAL`. Every commit is in the WAL
 * before it returns, so a `kill -9` keeps it; an interrupted commit is rolled back whole. A power
 * cut may lose the last commits not yet fsync'd, but only as a suffix: WAL frames carry chained
 * checksums and recovery stops at the first bad one, so the file comes back as an earlier state in
 * which a message is never deleted without the writes its handler made before. Redelivery and the
 * idempotent stages redo the rest. What an outside party is told (an HTTP answer, a GitHub call)
 * waits for `syncLocalStore`, which fsyncs the WAL and with it every commit before.
 */
export function openLocalStore(file: string): SqliteDatabase {
  if (file !== ":memory:") mkdirSync(path.dirname(file), { recursive: true });
  const db = new Database(file);
  // before the first table (a new file only): the store is mostly blobs of 10–200 KB (inventories,
  // reports), which 16 KiB pages write in a quarter of the pages and overflow-chain links
  db.pragma("page_size = 16384");
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  // a second process on the same file (a stale serve shutting down) waits instead of failing
  db.pragma("busy_timeout = 5000");
  // a checkpoint (a copy into the main file and an fsync) per 64 MiB of WAL rather than per 1,000
  // pages: a rescan writes hundreds of KB per image; the WAL is cut back to that size after one
  db.pragma("wal_autocheckpoint = 4096");
  db.pragma(`journal_size_limit = ${64 * 1024 * 1024}`);
  // 64 MiB of page cache (the default is 2 MiB): table rows and queue pages stay in memory
  db.pragma("cache_size = -65536");
  db.exec(`
    CREATE TABLE IF NOT EXISTS table_rows (
      tbl TEXT NOT NULL, pk TEXT NOT NULL, rk TEXT NOT NULL, etag TEXT NOT NULL, props TEXT NOT NULL,
      PRIMARY KEY (tbl, pk, rk)
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS queue_messages (
      id INTEGER PRIMARY KEY AUTOINCREMENT, queue TEXT NOT NULL, text TEXT NOT NULL,
      visible_at INTEGER NOT NULL, delivery_count INTEGER NOT NULL DEFAULT 0, lock INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX IF NOT EXISTS queue_messages_visible ON queue_messages (queue, visible_at, id);
    -- a receive walks a queue in id order and stops at its first visible messages (sqlite-bus.ts):
    -- by (queue, visible_at) it sorted every visible message of a deep queue, texts and all, each time
    CREATE INDEX IF NOT EXISTS queue_messages_order ON queue_messages (queue, id);
    CREATE TABLE IF NOT EXISTS queue_sent_ids (
      queue TEXT NOT NULL, message_id TEXT NOT NULL, sent_at INTEGER NOT NULL,
      PRIMARY KEY (queue, message_id)
    ) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS queue_sent_ids_age ON queue_sent_ids (sent_at);
    CREATE TABLE IF NOT EXISTS sync_marks (id INTEGER PRIMARY KEY, n INTEGER NOT NULL);
    INSERT OR IGNORE INTO sync_marks (id, n) VALUES (1, 0);
    CREATE TABLE IF NOT EXISTS blobs (
      key TEXT PRIMARY KEY, data BLOB NOT NULL, content_type TEXT
    ) WITHOUT ROWID;
  `);
  return db;
}

/**
 * Makes every commit so far survive a power cut: one small write committed with `synchronous=FULL`
 * fsyncs the WAL file, and the WAL holds the earlier commits in order before it.
 */
export function syncLocalStore(db: SqliteDatabase): void {
  groups.get(db)?.flush();
  db.pragma("synchronous = FULL");
  try {
    // committed on its own, with the fsync (not in a new window)
    preparedOnce(db, "UPDATE sync_marks SET n = n + 1 WHERE id = 1").run();
  } finally {
    db.pragma("synchronous = NORMAL");
  }
}

const groups = new WeakMap<SqliteDatabase, GroupCommit>();

/**
 * Gathers the host's writes into one transaction per `windowMs` instead of a commit per write: a
 * verdict's dozen small writes (and its neighbours') cost one commit, which rewrites each touched
 * 16 KiB page into the WAL once rather than once per write. A crash or `kill -9` loses the open
 * window whole: the file comes back as an earlier state, as after a power cut (`openLocalStore`),
 * in which no message is deleted without its handler's writes, and redelivery redoes the rest.
 * Whatever the outside is told waits for `syncLocalStore`, which commits the window first; so does
 * another connection that must read it (`flushGroupCommit`). Returns the stop function (it commits).
 */
export function startGroupCommit(db: SqliteDatabase, windowMs: number): () => void {
  const group = new GroupCommit(db, windowMs);
  groups.set(db, group);
  return () => {
    group.flush();
    groups.delete(db);
  };
}

/** Commits the open window now (a thread with its own connection is about to read what it wrote). */
export function flushGroupCommit(db: SqliteDatabase): void {
  groups.get(db)?.flush();
}

/**
 * The number of the database's open commit window (each window gets the next one), undefined when
 * none is open: a write made under the same number is not committed yet.
 */
export function openWindowOf(db: SqliteDatabase): number | undefined {
  return groups.get(db)?.openWindow;
}

class GroupCommit {
  readonly #db: SqliteDatabase;
  readonly #windowMs: number;
  #timer: NodeJS.Timeout | undefined;
  #windows = 0;

  constructor(db: SqliteDatabase, windowMs: number) {
    this.#db = db;
    this.#windowMs = windowMs;
  }

  /** Opens the window unless a transaction is open already (the window, or a `db.transaction` of its own). */
  join(): void {
    if (this.#timer || this.#db.inTransaction) return;
    this.#db.exec("BEGIN IMMEDIATE");
    this.#windows++;
    this.#timer = setTimeout(() => this.flush(), this.#windowMs);
  }

  get openWindow(): number | undefined {
    return this.#timer ? this.#windows : undefined;
  }

  flush(): void {
    if (!this.#timer) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    // a failed statement that rolled the whole transaction back (disk full) left nothing to commit
    if (this.#db.inTransaction) this.#db.exec("COMMIT");
  }
}
