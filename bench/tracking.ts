// GitHub tracking: 200 image repositories, 1,000 verdicts (most unchanged) through the tracking
// stage on the memory bus, against the loopback fake GitHub. Reports GitHub requests per write
// (create, edit, comment, close, reopen) — the target is close to 1 — and how long the queue takes to drain.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { messageId, scanIdOf, type TrackingMessage } from "../shared/model/messages.js";
import type { Finding, Report } from "../shared/model/report.js";
import { FsBlobStore } from "../shared/ports/fs-blob-store.js";
import { MemoryBus } from "../test/support/memory-bus.js";
import { MemoryTableStore } from "../test/support/memory-table-store.js";
import type { PipelineDeps } from "../shared/stages/pipeline-deps.js";
import { writeScannedImage } from "../shared/stages/scanned-images.js";
import { trackingStage } from "../shared/stages/tracking-stage.js";
import { githubClients } from "../shared/tracking/github-client.js";
import { octokitIssueTracker } from "../shared/tracking/issue-tracker.js";
import { TrackingConfigSchema } from "../shared/policy/tracking-config.js";
import { readSettings } from "../shared/composition/settings.js";
import { trackingRetryOf } from "../shared/tracking/tracking-from-settings.js";
import { FakeGitHub } from "../test/support/fake-github.js";

const REPOSITORIES = Number(process.env.BENCH_TRACKING_REPOSITORIES ?? 200);
const VERDICTS_PER_REPOSITORY = 5;
const REGISTRY = "bench.test:5000";

const github = await FakeGitHub.start();
const dir = await mkdtemp(path.join(tmpdir(), "portcullis-bench-tracking-"));
const tables = new MemoryTableStore();
const blobs = new FsBlobStore(dir);
const bus = new MemoryBus({ duplicateWindowSeconds: 0 });
const deps: PipelineDeps = {
  tables,
  blobs,
  bus,
  openSource: async () => {
    throw new Error("no registry in this bench: the mapping places every image");
  },
  match: async () => {
    throw new Error("not used");
  },
  decide: async () => {
    throw new Error("not used");
  },
  now: () => new Date(),
  log: () => {},
  tracking: {
    tracker: octokitIssueTracker(
      githubClients(
        { apiUrl: github.url, webUrl: "https://github.com", token: "test-github-token" },
        { log: () => {}, timeScale: 0.001 },
      ),
    ),
    config: TrackingConfigSchema.parse({ repositories: [{ images: ["bench/**"], github: "acme/fleet" }] }),
    webUrl: "https://github.com",
    retry: trackingRetryOf(readSettings({})),
  },
};

const finding = (id: string, pkg: string): Finding => ({
  id,
  aliases: [],
  package: { name: pkg, version: "1.0-1", ecosystem: "Debian:12", purl: `pkg:deb/debian/${pkg}@1.0-1` },
  fixedVersion: "1.0-2",
  severity: "high",
  layer: "sha256:00",
  tier: "block",
});

/** Stores one image's verdict as the verdict stage does (images row + report blob); returns its message. */
async function storeVerdict(repo: number, variant: "both" | "one" | "none", round: number) {
  const repository = `bench/app-${repo}`;
  const digest = `sha256:${(repo * 10 + ["both", "one", "none"].indexOf(variant)).toString(16).padStart(64, "0")}`;
  const findings =
    variant === "both"
      ? [finding("CVE-1", "a"), finding("CVE-2", "b")]
      : variant === "one"
        ? [finding("CVE-2", "b")]
        : [];
  const image = {
    ref: `${REGISTRY}/${repository}@${digest}`,
    registry: REGISTRY,
    repository,
    digest,
    tags: ["latest"],
    platform: { os: "linux", architecture: "amd64" },
  };
  const verdict = {
    decision: findings.length ? ("block" as const) : ("pass" as const),
    reasons: findings.map((f) => `${f.id} in ${f.package.name}`),
  };
  const report: Report = { schemaVersion: 1, image, packages: [], findings, verdict, warnings: [] };
  const reportKey = `reports/${repository}/${digest}.json`;
  await blobs.put(reportKey, JSON.stringify(report));
  const scanId = scanIdOf({ ...image, platform: image.platform });
  // through the images table's owner, as the verdict stage writes it (a row it cannot parse is "no stored verdict")
  await writeScannedImage(tables, {
    registry: REGISTRY,
    repository,
    digest,
    scanId,
    tags: ["latest"],
    platform: image.platform,
    os: "debian 12",
    status: "done",
    decision: verdict.decision,
    reasons: verdict.reasons,
    counts: { high: findings.length },
    findings: findings.length,
    packages: 0,
    dbVersion: "bench",
    inventoryKey: "",
    reportKey,
    scannedAt: new Date(Date.UTC(2026, 0, 1, 0, round)).toISOString(),
  });
  const body: TrackingMessage = {
    type: "tracking",
    v: 1,
    scanId,
    image,
    reportKey,
    verdict,
    dbVersion: "bench",
    cause: "verdict",
    at: new Date(Date.UTC(2026, 0, 1, 0, round)).toISOString(),
  };
  return { body, messageId: messageId("tracking", scanId, `bench-${round}`) };
}

// rounds 1–4: the same vulnerable image (create, then unchanged); round 5: a quarter fix one finding, a quarter fix both
const plan = (repo: number, round: number) =>
  round < 4 ? "both" : repo % 4 === 0 ? "one" : repo % 4 === 1 ? "none" : "both";
const subscription = bus.subscribe("tracking", (d) => trackingStage(d.body as TrackingMessage, deps), {
  maxDeliveries: 5,
  visibilityTimeoutSeconds: 30,
  concurrency: 4,
  onPoison: (m, r) => console.error(`poisoned ${m.messageId}: ${r.message}`),
});

let drainMs = 0;
for (let round = 0; round < VERDICTS_PER_REPOSITORY; round++) {
  const messages = [];
  for (let repo = 0; repo < REPOSITORIES; repo++)
    messages.push(await storeVerdict(repo, plan(repo, round), round));
  const t = performance.now();
  await bus.sendBatch("tracking", messages);
  await bus.idle({ timeoutMs: 600_000 });
  drainMs += performance.now() - t;
  console.log(`   round ${round + 1}: ${((performance.now() - t) / 1000).toFixed(1)} s`);
}
await subscription.stop();

const all = github.requests.filter((r) => r.status > 0 && r.status < 300);
const writes = github.writes();
const count = (re: RegExp) => writes.filter((w) => re.test(`${w.method} ${w.path}`)).length;
console.log(`   ${REPOSITORIES} repositories, ${REPOSITORIES * VERDICTS_PER_REPOSITORY} verdicts`);
console.log(
  `   GitHub writes: ${count(/^POST .*\/issues$/)} created, ${count(/^PATCH /)} edited/closed, ${count(/\/comments$/)} comments; issues open ${github.issues.filter((i) => i.state === "open").length}, closed ${github.issues.filter((i) => i.state === "closed").length}`,
);
console.log(
  `   requests per write: ${(all.length / writes.length).toFixed(2)} (${all.length} requests, ${writes.length} writes; the rest are the listings that rebuild the ledger of a GitHub repository not yet covered)`,
);
console.log(
  `   tracking queue drained in ${(drainMs / 1000).toFixed(1)} s (${(drainMs / (REPOSITORIES * VERDICTS_PER_REPOSITORY)).toFixed(1)} ms per verdict)`,
);
if (github.problems.length) console.log(`   fake GitHub problems: ${github.problems.slice(0, 3).join("; ")}`);
await github.stop();
await rm(dir, { recursive: true, force: true });
