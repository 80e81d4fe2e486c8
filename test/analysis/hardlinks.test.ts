// Hardlinks in layers built by GNU tar from a real directory (the first name is stored as a file,
// the others as links to it): a package database linked after more than the read-cache budget of
// other files still resolves, and the content engine says the same of a hardlinked file as of a copy.
import { createHash } from "node:crypto";
import { link, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { analyzeLayer } from "../../shared/analysis/analyze-layer.js";
import type { Analyzer } from "../../shared/analysis/analyzer.js";
import {
  ClamdClient,
  createContentAnalyzer,
  parseClamdAddress,
} from "../../shared/analysis/content/index.js";
import type { LayerReport } from "../../shared/analysis/layer-report.js";
import { ANALYZERS } from "../../shared/analysis/registry.js";
import { squashLayers } from "../../shared/analysis/squash.js";
import { type ContentFinding, ContentFactSchema } from "../../shared/model/content.js";
import { DEFAULT_LIMITS } from "../../shared/model/limits.js";
import { EICAR, type RunningClamd, startTestClamd } from "../support/clamd.js";
import { runTool } from "../support/run-tool.js";
import { refFor, streamOf } from "./layers.js";

const work = await mkdtemp(path.join(os.tmpdir(), "portcullis-hardlinks-"));
afterAll(() => rm(work, { recursive: true, force: true }));

type Plan = { name: string; content: string | Buffer } | { name: string; linkTo: string };

/** Writes the plan into a fresh directory (links with `link(2)`) and packs it with `tar --sort=name -z`. */
async function tarLayer(label: string, plan: Plan[]): Promise<Buffer> {
  const root = path.join(work, label);
  for (const entry of plan) {
    const at = path.join(root, entry.name);
    await mkdir(path.dirname(at), { recursive: true });
    if ("content" in entry) await writeFile(at, entry.content);
    else await link(path.join(root, entry.linkTo), at);
  }
  const out = path.join(work, `${label}.tar.gz`);
  const tops = [...new Set(plan.map((e) => e.name.split("/")[0]!))].sort();
  await runTool("tar", ["--sort=name", "--owner=0", "--group=0", "-czf", out, "-C", root, ...tops]);
  return readFile(out);
}

async function analyze(bytes: Buffer, analyzers: readonly Analyzer[]): Promise<LayerReport> {
  return analyzeLayer(streamOf(bytes), refFor(bytes), { analyzers, limits: DEFAULT_LIMITS });
}

const APK_DB = "P:musl\nV:1.2.5-r0\nA:x86_64\no:musl\n\nP:busybox\nV:1.36.1-r29\nA:x86_64\no:busybox\n";

describe("a hardlink to a package database after more than the read-cache budget of other files", () => {
  it("resolves: the database is read at the link's name, with no hardlink-unresolved warning", async () => {
    // 70 × 1 MiB come first in name order: more than maxFileBytes (64 MiB, the budget of bytes kept
    // for hardlinks) of files the content engine reads, so a walk that kept them has no room left
    const filler = Buffer.alloc(1024 * 1024, "filler\n");
    const bytes = await tarLayer("budget", [
      ...Array.from({ length: 70 }, (_, i) => ({ name: `aaa/blob-${i}.bin`, content: filler })),
      { name: "lib/apk/db/installed", content: APK_DB },
      { name: "usr/lib/apk/db/installed", linkTo: "lib/apk/db/installed" },
    ]);
    const report = await analyze(bytes, ANALYZERS);
    expect(report.links).toContainEqual({
      path: "usr/lib/apk/db/installed",
      type: "hardlink",
      target: "lib/apk/db/installed",
    });
    expect(report.warnings.filter((w) => w.code === "hardlink-unresolved")).toEqual([]);
    const apk = report.files.filter((f) => f.analyzer === "apk").map((f) => [f.path, f.output.packages]);
    const listed = [
      expect.objectContaining({ name: "musl", version: "1.2.5-r0" }),
      expect.objectContaining({ name: "busybox", version: "1.36.1-r29" }),
    ];
    expect(apk).toEqual([
      ["lib/apk/db/installed", listed],
      ["usr/lib/apk/db/installed", listed],
    ]);
    // the content engine has the link too, from its target's result
    const content = report.files.filter((f) => f.analyzer === "content" && f.path.includes("apk/db"));
    expect(content.map((f) => f.path)).toEqual(["lib/apk/db/installed", "usr/lib/apk/db/installed"]);
    expect(content[1]!.output).toEqual(content[0]!.output);
  }, 120_000);
});

const MINER = "#!/bin/sh\nexec ./xmrig -o stratum+tcp://127.0.0.1:3333 -u wallet\n";
const AWS = "[default]\naws_access_key_id = AKIAQWERTYUIOPASDFGH\n";
const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE4ZbVv3yVQ2n8X5m1qj0Zq1xYwq3J8Lx0H2cQm7bT1d dev@laptop\n";

let clamd: RunningClamd;
beforeAll(async () => {
  clamd = await startTestClamd();
}, 60_000);
afterAll(() => clamd?.stop());

describe("the content engine on hardlinked files", () => {
  // second names in a persistence place and elsewhere, sorted both before and after their first name
  const files = [
    { name: "opt/tools/eicar.com", content: EICAR },
    { name: "opt/tools/start.sh", content: MINER },
    { name: "home/dev/.aws/credentials", content: AWS },
    { name: "home/dev/id_ed25519.pub", content: KEY },
  ];
  const seconds = [
    { name: "srv/www/eicar.com", of: "opt/tools/eicar.com" },
    { name: "etc/cron.d/miner", of: "opt/tools/start.sh" },
    { name: "root/.aws/credentials", of: "home/dev/.aws/credentials" },
    { name: "root/.ssh/authorized_keys", of: "home/dev/id_ed25519.pub" },
  ];

  async function findings(
    label: string,
    linked: boolean,
  ): Promise<{ layer: string; found: ContentFinding[] }> {
    const plan: Plan[] = [
      ...files,
      ...seconds.map((s) =>
        linked
          ? { name: s.name, linkTo: s.of }
          : { name: s.name, content: files.find((f) => f.name === s.of)!.content },
      ),
    ];
    const bytes = await tarLayer(label, plan);
    const engine = createContentAnalyzer({ clamd: new ClamdClient(parseClamdAddress(clamd.address)) });
    const report = await analyze(bytes, [engine]);
    if (linked) expect(report.links.filter((l) => l.type === "hardlink")).toHaveLength(4);
    const fact = ContentFactSchema.parse(squashLayers([report], { analyzers: [engine] }).facts.content);
    return { layer: report.digest, found: fact.findings };
  }

  it("confirms and suspects at a hardlink exactly what it does at a copy of the file", async () => {
    const copies = await findings("copies", false);
    const links = await findings("links", true);
    const strip = ({ found, layer }: { found: ContentFinding[]; layer: string }) =>
      found.map((f) => ({ ...f, layer: f.layer === layer ? "this layer" : f.layer }));
    expect(strip(links)).toEqual(strip(copies));
    const at = (p: string) =>
      links.found.filter((f) => f.path === p).map((f) => [f.rule, f.confidence, f.engines, f.sha256]);
    const sha = (s: string) => createHash("sha256").update(s).digest("hex");
    // EICAR: both engines agree, at the first name and at the link
    for (const p of ["/opt/tools/eicar.com", "/srv/www/eicar.com"])
      expect(at(p)).toEqual([["malware/eicar-test-file", "confirmed", ["portcullis", "clamav"], sha(EICAR)]]);
    // the miner: clamd alone, so suspected (a cron entry without a dpkg database is not reported)
    expect(at("/etc/cron.d/miner")).toEqual([["malware/clamav", "suspected", ["clamav"], sha(MINER)]]);
    // a key given a second name in root's authorized_keys is a persistence entry, hashed like a copy
    expect(at("/root/.ssh/authorized_keys")).toEqual([
      ["persistence/authorized-keys", "suspected", ["portcullis"], sha(KEY)],
    ]);
    expect(at("/root/.aws/credentials")).toEqual([
      ["secret/aws-access-key-id", "suspected", ["portcullis"], sha(AWS)],
    ]);
  }, 120_000);
});
