import { existsSync } from "node:fs";
import path from "node:path";
import { BlobServiceClient } from "@azure/storage-blob";
import type { Settings } from "../composition/settings.js";
import { AzureBlobStore } from "../ports/azure-blob-store.js";
import { AzureTableStore } from "../ports/azure-table-store.js";
import type { BlobStore } from "../ports/blob-store.js";
import type { Bus } from "../ports/bus.js";
import { StorageQueueBus } from "../ports/storage-queue-bus.js";
import type { TableStore } from "../ports/table-store.js";
import { type AzuriteInstance, startAzurite } from "./azurite.js";
import { SqliteBlobStore } from "./sqlite-blob-store.js";
import { SqliteBus } from "./sqlite-bus.js";
import { SqliteTableStore } from "./sqlite-table-store.js";
import { startCheckpointer } from "./sqlite-checkpointer.js";
import {
  flushGroupCommit,
  LOCAL_STORE_FILE,
  openLocalStore,
  startGroupCommit,
  syncLocalStore,
} from "./sqlite-database.js";

/** How long the SQLite store gathers writes into one commit (`startGroupCommit`). */
const GROUP_COMMIT_MS = 20;

export interface LocalStorage {
  tables: TableStore;
  blobs: BlobStore;
  bus: Bus & { depth(queue: string): Promise<number> };
  /** only with PORTCULLIS_LOCAL_STORE=azurite */
  azurite?: AzuriteInstance;
  /** the SQLite file (the default store), for a thread that reads it on its own connection */
  file?: string;
  /** true when `sync` makes every write so far durable; false on Azurite, which saves every few seconds */
  durableOnCommit: boolean;
  /** every write so far survives a power cut once this returns (before anyone outside is told) */
  sync(): void;
  /** every write so far is visible to another connection to the store once this returns */
  flush(): void;
  /**
   * `flush` only when the open commit window wrote a blob `reads` names: a thread about to read
   * those blobs sees them, and the writes it does not read keep their group commit
   */
  flushBlobs(reads: (key: string) => boolean): void;
  close(): Promise<void>;
}

/**
 * The local host's storage under `dataDir`. Default: one SQLite file, WAL: tables, queue hand-offs
 * and blobs survive a `kill -9` once their commit window closes (20 ms), and a power cut once `sync` has run. `azurite`: Storage Queues,
 * Tables and Blobs on an embedded Azurite (the Functions-like setup, durable only after its save).
 */
export async function openLocalStorage(
  dataDir: string,
  settings: Settings,
  log: (message: string) => void,
): Promise<LocalStorage> {
  if (settings.PORTCULLIS_LOCAL_STORE === "sqlite") {
    const file = path.join(dataDir, LOCAL_STORE_FILE);
    if (!existsSync(file) && existsSync(path.join(dataDir, "azurite"))) {
      // an earlier version's data: say so rather than start empty without a word
      log(
        `storage: ${dataDir} holds Azurite data that the SQLite store does not read; set PORTCULLIS_LOCAL_STORE=azurite to keep using it`,
      );
    }
    const db = openLocalStore(file);
    const stopCheckpoints = startCheckpointer(db, file, log);
    const stopGroupCommit = startGroupCommit(db, GROUP_COMMIT_MS);
    const bus = new SqliteBus(db);
    const blobs = new SqliteBlobStore(db);
    return {
      tables: new SqliteTableStore(db),
      blobs,
      bus,
      durableOnCommit: true,
      file,
      sync: () => syncLocalStore(db),
      flush: () => flushGroupCommit(db),
      flushBlobs: (reads) => {
        if (blobs.uncommitted(reads)) flushGroupCommit(db);
      },
      async close() {
        await bus.close();
        stopGroupCommit();
        await stopCheckpoints();
        db.close();
      },
    };
  }
  const azurite = await startAzurite({ dataDir: path.join(dataDir, "azurite") });
  const { connectionString } = azurite;
  const bus = new StorageQueueBus({ connectionString });
  return {
    tables: new AzureTableStore({ connectionString }),
    blobs: new AzureBlobStore(
      BlobServiceClient.fromConnectionString(connectionString).getContainerClient(
        settings.PORTCULLIS_BLOB_CONTAINER,
      ),
    ),
    bus,
    azurite,
    durableOnCommit: false,
    // Azurite cannot be made to save now; intake's journal carries the 202s instead
    sync: () => {},
    flush: () => {},
    flushBlobs: () => {},
    async close() {
      await bus.close();
      await azurite.stop();
    },
  };
}
