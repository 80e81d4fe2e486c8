import { mkdirSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";

export type SqliteDatabase = Database.Database;

/** The file the local host keeps its tables, queues and blobs in, inside its data dir. */
export const LOCAL_STORE_FILE = "portcullis.sqlite";

/**
 * Opens the local host's store, durable on commit: WAL journal with `synchronous=FULL`, so every
 * commit has fsync'd the WAL before it returns. A `kill -9` (or a power cut) after a write returned
 * keeps that write; an interrupted commit is rolled back whole when the file is next opened.
 */
export function openLocalStore(file: string): SqliteDatabase {
  if (file !== ":memory:") mkdirSync(path.dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = FULL");
  // a second process on the same file (a stale serve shutting down) waits instead of failing
  db.pragma("busy_timeout = 5000");
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
    CREATE TABLE IF NOT EXISTS queue_sent_ids (
      queue TEXT NOT NULL, message_id TEXT NOT NULL, sent_at INTEGER NOT NULL,
      PRIMARY KEY (queue, message_id)
    ) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS queue_sent_ids_age ON queue_sent_ids (sent_at);
    CREATE TABLE IF NOT EXISTS blobs (
      key TEXT PRIMARY KEY, data BLOB NOT NULL, content_type TEXT
    ) WITHOUT ROWID;
  `);
  return db;
}
