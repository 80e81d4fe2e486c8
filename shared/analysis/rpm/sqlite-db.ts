import initSqlJs, { type SqlJsStatic } from "sql.js";
import { MAX_RPM_PACKAGES, type RpmDbBlobs, RpmDbError } from "./rpm-db.js";

let engine: Promise<SqlJsStatic> | undefined;

/** Reads every header blob of an `rpmdb.sqlite` (rpm ≥ 4.16's `Packages` table) from memory. */
export async function readSqliteDb(file: Buffer): Promise<RpmDbBlobs> {
  if (file.length < 100 || file.toString("latin1", 0, 16) !== "SQLite format 3\u0000") {
    throw new RpmDbError("not an SQLite database");
  }
  engine ??= initSqlJs();
  const SQL = await engine;
  let db: InstanceType<SqlJsStatic["Database"]> | undefined;
  try {
    // sql.js copies the bytes into its own heap: the layer's buffer is never written
    db = new SQL.Database(file);
    const blobs: Buffer[] = [];
    const problems: string[] = [];
    const statement = db.prepare("SELECT hnum, blob FROM Packages ORDER BY hnum");
    try {
      while (statement.step()) {
        const [hnum, blob] = statement.get();
        if (!(blob instanceof Uint8Array)) {
          problems.push(`row ${String(hnum)} holds no blob`);
          continue;
        }
        blobs.push(Buffer.from(blob));
        if (blobs.length >= MAX_RPM_PACKAGES) {
          problems.push(`more than ${MAX_RPM_PACKAGES} rows; the rest were not read`);
          break;
        }
      }
    } finally {
      statement.free();
    }
    return { blobs, problems };
  } catch (err) {
    if (err instanceof RpmDbError) throw err;
    throw new RpmDbError(`SQLite: ${(err as Error).message}`);
  } finally {
    db?.close();
  }
}
