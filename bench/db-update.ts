// `db update` against a loopback OSV export bucket: a full first download of 100,000 advisories,
// then an update with nothing changed (one conditional request, no body) — its cost as a fraction.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { FsBlobStore } from "../shared/ports/fs-blob-store.js";
import { updateDb } from "../shared/vulndb/db-update.js";
import { startOsvExportServer } from "../test/integration/support/osv-export-server.js";
import { osvExportZip } from "../test/integration/support/osv-records.js";
import { syntheticDebianRecords } from "./support/synthetic-advisories.js";

const server = await startOsvExportServer();
const dir = await mkdtemp(path.join(tmpdir(), "portcullis-bench-dbupdate-"));
try {
  // the test zip writer has no zip64, so one export holds at most 65,535 records
  const records = [...syntheticDebianRecords()].slice(0, 60_000);
  const zip = osvExportZip(records);
  server.publish("Debian", zip);
  const store = new FsBlobStore(dir);
  const t0 = performance.now();
  const options = {
    baseUrl: server.url,
    ecosystems: ["Debian"],
    log: (l: string) => console.error(((performance.now() - t0) / 1000).toFixed(1), l),
  };

  let t = performance.now();
  await updateDb(store, options);
  const firstMs = performance.now() - t;
  const before = server.requests.length;

  t = performance.now();
  const second = await updateDb(store, options);
  const secondMs = performance.now() - t;
  const requests = server.requests.slice(before);

  console.log(
    `first update: ${records.length} advisories, ${(zip.length / 1024 / 1024).toFixed(1)} MB zip, ${(firstMs / 1000).toFixed(2)} s`,
  );
  console.log(
    `update with nothing changed: ${secondMs.toFixed(0)} ms, ${requests.length} request(s) ` +
      `(${requests.map((r) => r.status).join(", ")}), changed=${second.changed}; ` +
      `fraction of the first ${(secondMs / firstMs).toFixed(3)}`,
  );
} finally {
  await server.stop();
  await rm(dir, { recursive: true, force: true });
}
