import type { BlobStore, BlobWrite } from "../ports/blob-store.js";
import { assertBlobKey } from "../ports/fs-blob-store.js";
import { openWindowOf, type SqliteDatabase, prepared, transaction } from "./sqlite-database.js";

/** Keys listed per round trip: the iterator never holds a statement open across an await. */
const PAGE_KEYS = 512;

/**
 * The insert for a blob given as bytes or as text: text is bound as it is and stored as its UTF-8
 * bytes (`CAST … AS BLOB`), so a report of 100 KB and more is not copied into a Buffer first.
 */
const insertSql = (data: Buffer | string) =>
  typeof data === "string"
    ? "INSERT OR REPLACE INTO blobs (key, data, content_type) VALUES (?, CAST(? AS BLOB), ?)"
    : "INSERT OR REPLACE INTO blobs (key, data, content_type) VALUES (?, ?, ?)";

/**
 * The local host's blobs in its SQLite file: a put is one committed transaction, so a stage that
 * hands a blob key to the next stage has made the blob as durable as the message that names it.
 */
export class SqliteBlobStore implements BlobStore {
  readonly #db: SqliteDatabase;
  /** the keys written (put or deleted) in the open commit window, and that window's number */
  #written = { window: -1, keys: new Set<string>() };

  constructor(db: SqliteDatabase) {
    this.#db = db;
  }

  async get(key: string): Promise<Buffer | undefined> {
    assertBlobKey(key);
    const row = prepared(this.#db, "SELECT data FROM blobs WHERE key = ?").get(key) as
      | { data: Buffer }
      | undefined;
    return row?.data;
  }

  /**
   * A blob as UTF-8 text, decoded by SQLite into a string at once: no Buffer of its own to allocate,
   * copy and collect (the verdict thread reads an inventory this way for every rescanned image).
   */
  getText(key: string): string | undefined {
    assertBlobKey(key);
    const row = prepared(this.#db, "SELECT CAST(data AS TEXT) AS text FROM blobs WHERE key = ?").get(key) as
      | { text: string }
      | undefined;
    return row?.text;
  }

  async put(key: string, data: Buffer | string, options?: { contentType?: string }): Promise<void> {
    assertBlobKey(key);
    prepared(this.#db, insertSql(data)).run(key, data, options?.contentType ?? null);
    this.#wrote(key);
  }

  async putMany(blobs: readonly BlobWrite[]): Promise<void> {
    for (const { key } of blobs) assertBlobKey(key);
    transaction(this.#db, () => {
      for (const { key, data, contentType } of blobs)
        prepared(this.#db, insertSql(data)).run(key, data, contentType ?? null);
    });
    for (const { key } of blobs) this.#wrote(key);
  }

  async has(key: string): Promise<boolean> {
    assertBlobKey(key);
    return prepared(this.#db, "SELECT 1 FROM blobs WHERE key = ?").get(key) !== undefined;
  }

  async delete(key: string): Promise<void> {
    assertBlobKey(key);
    prepared(this.#db, "DELETE FROM blobs WHERE key = ?").run(key);
    this.#wrote(key);
  }

  /**
   * True when a key `reads` names was written in the open commit window: another connection does
   * not see that write until the window commits (`flushGroupCommit`).
   */
  uncommitted(reads: (key: string) => boolean): boolean {
    const window = openWindowOf(this.#db);
    if (window === undefined || window !== this.#written.window) return false;
    for (const key of this.#written.keys) if (reads(key)) return true;
    return false;
  }

  #wrote(key: string): void {
    // outside a group commit (tests, the CLI) every write is committed at once: nothing to note
    const window = openWindowOf(this.#db);
    if (window === undefined) return;
    if (window !== this.#written.window) this.#written = { window, keys: new Set() };
    this.#written.keys.add(key);
  }

  async *list(prefix: string): AsyncIterable<string> {
    let after = "";
    for (;;) {
      // keys in byte order: the first key past the prefix ends the listing
      const page = prepared<[string, string], { key: string }>(
        this.#db,
        `SELECT key FROM blobs WHERE key >= ? AND key > ? ORDER BY key LIMIT ${PAGE_KEYS}`,
      )
        .all(prefix, after)
        .map((r) => r.key);
      for (const key of page) {
        if (!key.startsWith(prefix)) return;
        yield key;
      }
      if (page.length < PAGE_KEYS) return;
      after = page[page.length - 1]!;
    }
  }
}
