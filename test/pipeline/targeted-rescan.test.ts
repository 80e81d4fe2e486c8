import { createHash } from "node:crypto";
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalHost, startLocalHost } from "../../shared/local/host.js";
import { imagePartition, readScannedImage } from "../../shared/stages/scanned-images.js";
import { debianRecord, osvExportZip } from "../integration/support/osv-records.js";
import { type OsvExportServer, startOsvExportServer } from "../integration/support/osv-export-server.js";
import { buildDebianTestImage, type DebianTestImage } from "../support/debian-image.js";
import { pushImage } from "../support/push-image.js";
import { type RegistryServer, startRegistry } from "../support/registry-server.js";
import { callApi, hostNotifications, testHostOptions, waitForVerdict } from "./support/local-host-api.js";

/**
 * Targeted rescans end to end: five stored images built from the real Debian test image's layers,
 * pushed to the real Distribution registry; DB updates come from a loopback OSV export server
 * through `POST /api/db/refresh`. Only the images carrying a changed package are matched again,
 * from their stored inventories: the registry sees no request.
 */
const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures/osv");

let image: DebianTestImage;
let host: LocalHost;
let registry: RegistryServer;
let feed: OsvExportServer;
let dataDir: string;
let layoutDir: string;
const logs: string[] = [];
let baseRecords: Record<string, unknown>[];

/** The five images: the layers each has (0 base, 1 installs jq, 2 purges tzdata) and a label that keeps digests apart. */
const VARIANTS = [
  { name: "base", layers: [0], label: "a" },
  { name: "with-jq", layers: [0, 1], label: "b" },
  { name: "full", layers: [0, 1, 2], label: "c" },
  // not [0, 2]: the purge layer's dpkg status was written after jq's install and still lists it
  { name: "base-labelled", layers: [0], label: "d" },
  { name: "base-again", layers: [0], label: "e" },
] as const;
const WITH_JQ = ["with-jq", "full"];
const stored = new Map<string, { repository: string; digest: string }>();

const sha256 = (data: Buffer | string) => createHash("sha256").update(data).digest("hex");

/** Writes one variant's config and manifest into the layout copy and tags it. */
async function addVariant(variant: (typeof VARIANTS)[number]): Promise<string> {
  const index = JSON.parse(await readFile(path.join(layoutDir, "index.json"), "utf8"));
  const amd64 = index.manifests.find(
    (m: { annotations?: Record<string, string> }) =>
      m.annotations?.["org.opencontainers.image.ref.name"] === image.amd64Tag,
  );
  const blob = (digest: string) => path.join(layoutDir, "blobs", ...digest.split(":"));
  const manifest = JSON.parse(await readFile(blob(amd64.digest), "utf8"));
  const config = JSON.parse(await readFile(blob(manifest.config.digest), "utf8"));
  config.rootfs.diff_ids = variant.layers.map((i) => config.rootfs.diff_ids[i]);
  config.history = variant.layers.map((i) => config.history[i]);
  config.config.Labels = { variant: variant.label };
  const configText = JSON.stringify(config);
  const configDigest = `sha256:${sha256(configText)}`;
  await writeFile(blob(configDigest), configText);
  manifest.config = { ...manifest.config, digest: configDigest, size: Buffer.byteLength(configText) };
  manifest.layers = variant.layers.map((i) => manifest.layers[i]);
  const manifestText = JSON.stringify(manifest);
  const digest = `sha256:${sha256(manifestText)}`;
  await writeFile(blob(digest), manifestText);
  index.manifests.push({
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    digest,
    size: Buffer.byteLength(manifestText),
    annotations: { "org.opencontainers.image.ref.name": variant.name },
  });
  await writeFile(path.join(layoutDir, "index.json"), JSON.stringify(index));
  return digest;
}

const api = (pathAndQuery: string, init?: RequestInit) => callApi(host, pathAndQuery, init);
const refresh = (authorization: string | undefined = `Bearer ${host.hookToken}`) =>
  api("/api/db/refresh", { method: "POST", headers: authorization ? { authorization } : {} });
const reportOf = (name: string) => {
  const s = stored.get(name)!;
  return api(`/api/images/${registry.host}/${s.repository}/${s.digest}`);
};

/** Requests the registry logged (its access log names every API call). */
const registryRequests = () =>
  registry
    .logs()
    .split("\n")
    .filter((line) => /\b(GET|HEAD|PUT|POST|PATCH|DELETE) \/v2\//.test(line)).length;

/** Publishes the Debian export: the pipeline fixtures plus `extra`. */
function publish(extra: Record<string, unknown>[]) {
  feed.publish("Debian", osvExportZip([...baseRecords, ...extra]));
}

const jqAdvisory = (id: string, withdrawn?: string) =>
  debianRecord({
    id,
    source: "jq",
    aliases: [id.replace("PCTEST", "CVE")],
    cvss: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N",
    events: [{ introduced: "0" }],
    ...(withdrawn ? { withdrawn } : {}),
  });

/** Waits until every image in `names` has a verdict on `version` or a recorded rescan failure, and the queues are empty. */
async function waitForRescans(names: readonly string[], version: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (const name of names) {
    for (;;) {
      const report = await reportOf(name);
      const record = report.body.verdictRecord as { dbVersion?: string } | undefined;
      const failure = report.body.rescanFailure as { at?: string } | undefined;
      if (record?.dbVersion === version || failure) break;
      if (Date.now() > deadline)
        throw new Error(`${name} not re-verdicted on ${version}:\n${logs.slice(-20).join("\n")}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  for (const queue of ["matching", "verdict"]) {
    while ((await host.bus.depth(queue)) > 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
  }
}

async function dbVersionOf(name: string): Promise<string> {
  const s = stored.get(name)!;
  const row = await readScannedImage(
    host.pipeline.tables,
    imagePartition(registry.host, s.repository),
    s.digest,
  );
  return row?.dbVersion ?? "";
}

beforeAll(async () => {
  image = await buildDebianTestImage();
  dataDir = await mkdtemp(path.join(os.tmpdir(), "portcullis-rescan-"));
  layoutDir = path.join(dataDir, "layout");
  await cp(image.layoutDir, layoutDir, { recursive: true });
  baseRecords = [];
  for (const file of (await readdir(FIXTURES)).filter((f) => f.endsWith(".json")).sort())
    baseRecords.push(JSON.parse(await readFile(path.join(FIXTURES, file), "utf8")));
  feed = await startOsvExportServer();
  publish([]);
  const options = testHostOptions(path.join(dataDir, "host"), logs);
  host = await startLocalHost({
    ...options,
    db: { offline: true, baseUrl: feed.url, ecosystems: ["Debian"] },
  });
  registry = await startRegistry({ notifications: hostNotifications(host) });
}, 600_000);

afterAll(async () => {
  await registry?.stop();
  await host?.stop();
  await feed?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe("targeted rescans after a DB update", () => {
  it("refuses POST /api/db/refresh without the hook token, even on loopback", async () => {
    expect((await refresh("Bearer wrong-token")).status).toBe(401);
    expect((await refresh("")).status).toBe(401);
  });

  it("builds the first DB on demand and stores five images", async () => {
    const first = await refresh();
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ changed: true, queued: 0 });
    for (const variant of VARIANTS) {
      const digest = await addVariant(variant);
      const repository = `rescan/${variant.name}`;
      await pushImage(`oci:${layoutDir}:${variant.name}`, `${registry.host}/${repository}:v1`);
      stored.set(variant.name, { repository, digest });
    }
    for (const [name, s] of stored) {
      const answer = await waitForVerdict(host, `${registry.host}/${s.repository}@${s.digest}`, { logs });
      expect([200, 403], name).toContain(answer.status);
      const report = await reportOf(name);
      expect(report.body.verdictRecord, name).toMatchObject({ cause: "push", dbVersion: first.body.version });
      expect(report.body.verdictRecord, name).not.toHaveProperty("diff");
    }
    // the access log does name requests: the pushes and the scans' pulls are in it
    expect(registryRequests()).toBeGreaterThan(VARIANTS.length);
  });

  it("re-verdicts exactly the two images holding the package a new advisory names, with no registry request", async () => {
    const before = registryRequests();
    const untouched = new Map<string, string>();
    for (const name of stored.keys()) untouched.set(name, await dbVersionOf(name));
    publish([jqAdvisory("PCTEST-2099-0100")]);
    const res = await refresh();
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ changed: true, queued: 2, needRepull: [], notQueued: [] });
    const version = String(res.body.version);
    await waitForRescans(WITH_JQ, version);
    for (const name of stored.keys()) {
      if (WITH_JQ.includes(name)) {
        expect(await dbVersionOf(name), name).toBe(version);
        const report = await reportOf(name);
        const findings = report.body.findings as { id: string; package: { name: string } }[];
        expect(
          findings
            .filter((f) => f.id === "CVE-2099-0100")
            .map((f) => f.package.name)
            .sort(),
        ).toEqual(["jq", "libjq1"]);
        const record = report.body.verdictRecord as {
          cause: string;
          diff: { new: { id: string }[]; unchanged: number };
        };
        expect(record.cause).toBe("db-update");
        expect(record.diff.new.map((f) => f.id)).toEqual(["CVE-2099-0100", "CVE-2099-0100"]);
        expect(record.diff.unchanged).toBeGreaterThan(0);
      } else {
        expect(await dbVersionOf(name), name).toBe(untouched.get(name));
      }
    }
    expect(registryRequests()).toBe(before);
  });

  it("starts nothing when the update changes no advisory (a new export with the same records, or a 304)", async () => {
    const versions = new Map<string, string>();
    for (const name of stored.keys()) versions.set(name, await dbVersionOf(name));
    // same records, other bytes: a new ETag, so the feed is downloaded and compared
    feed.publish("Debian", osvExportZip([jqAdvisory("PCTEST-2099-0100"), ...[...baseRecords].reverse()]));
    const res = await refresh();
    expect(res.body).toMatchObject({ changed: true, queued: 0, packages: 0 });
    const again = await refresh();
    expect(again.body).toMatchObject({ changed: false, queued: 0 });
    for (const queue of ["matching", "verdict"]) expect(await host.bus.depth(queue)).toBe(0);
    for (const name of stored.keys()) expect(await dbVersionOf(name), name).toBe(versions.get(name));
  });

  it("drops the finding of a withdrawn advisory, and the diff says it is gone", async () => {
    publish([jqAdvisory("PCTEST-2099-0100", "2025-02-01T00:00:00Z")]);
    const res = await refresh();
    expect(res.body).toMatchObject({ changed: true, queued: 2 });
    await waitForRescans(WITH_JQ, String(res.body.version));
    for (const name of WITH_JQ) {
      const report = await reportOf(name);
      const findings = report.body.findings as { id: string }[];
      expect(findings.map((f) => f.id)).not.toContain("CVE-2099-0100");
      const record = report.body.verdictRecord as {
        cause: string;
        diff: { fixed: { id: string }[]; new: unknown[] };
      };
      expect(record.cause).toBe("db-update");
      expect(record.diff.fixed.map((f) => f.id)).toEqual(["CVE-2099-0100", "CVE-2099-0100"]);
      expect(record.diff.new).toEqual([]);
    }
  });

  it("fails the rescan of an image whose stored inventory is corrupt, clearly and alone", async () => {
    const full = stored.get("full")!;
    const row = await readScannedImage(
      host.pipeline.tables,
      imagePartition(registry.host, full.repository),
      full.digest,
    );
    await host.pipeline.blobs.put(row!.inventoryKey, '{"schemaVersion": 1, "packages": [');
    const before = registryRequests();
    publish([jqAdvisory("PCTEST-2099-0101")]);
    const res = await refresh();
    expect(res.body).toMatchObject({ changed: true, queued: 2 });
    const version = String(res.body.version);
    await waitForRescans(WITH_JQ, version);
    const ok = await reportOf("with-jq");
    expect((ok.body.findings as { id: string }[]).map((f) => f.id)).toContain("CVE-2099-0101");
    const broken = await reportOf("full");
    expect(broken.body.rescanFailure).toMatchObject({
      cause: "db-update",
      reason: expect.stringMatching(/stored inventory .* is corrupt/),
    });
    // the previous verdict stands, never silently replaced
    expect((broken.body.findings as { id: string }[]).map((f) => f.id)).not.toContain("CVE-2099-0101");
    expect(await dbVersionOf("full")).not.toBe(version);
    expect(
      logs.some((l) => l.includes(`rescan of ${registry.host}/${full.repository}`) && l.includes("corrupt")),
    ).toBe(true);
    expect(registryRequests()).toBe(before);
  });
});
