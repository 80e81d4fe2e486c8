// ClamAV as the second engine: Debian's real clamd on loopback with signatures this test writes,
// scanning the very files the layer walk hands the content engine.
import { createHash } from "node:crypto";
import { createServer, type Server } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { analyzeLayer } from "../../../shared/analysis/analyze-layer.js";
import type { Analyzer } from "../../../shared/analysis/analyzer.js";
import {
  ClamdClient,
  createContentAnalyzer,
  parseClamdAddress,
} from "../../../shared/analysis/content/index.js";
import { parseScanReply } from "../../../shared/analysis/content/clamd-client.js";
import {
  clamdSignatureVersion,
  contentAnalyzers,
  pinClamdSignatures,
} from "../../../shared/analysis/content/index.js";
import { analyzerSetVersion } from "../../../shared/analysis/registry.js";
import { squashLayers } from "../../../shared/analysis/squash.js";
import { ContentFactSchema } from "../../../shared/model/content.js";
import { DEFAULT_LIMITS } from "../../../shared/model/limits.js";
import type { Inventory } from "../../../shared/model/report.js";
import { PolicySchema } from "../../../shared/policy/policy.js";
import { makeReport } from "../../../shared/stages/make-report.js";
import { EICAR, type RunningClamd, startTestClamd } from "../../support/clamd.js";
import { freePort } from "../../support/free-port.js";
import { layerBlob, streamOf } from "../layers.js";

const MINER = "#!/bin/sh\nexec ./xmrig -o stratum+tcp://127.0.0.1:3333 -u wallet\n";

let clamd: RunningClamd;
beforeAll(async () => {
  clamd = await startTestClamd();
}, 60_000);
afterAll(() => clamd?.stop());

async function scanLayer(analyzer: Analyzer) {
  const blob = await layerBlob([
    { name: "opt/tools/eicar.com", content: EICAR },
    { name: "opt/tools/start.sh", content: MINER },
    { name: "opt/tools/clean.sh", content: "#!/bin/sh\necho hello\n" },
  ]);
  const layer = await analyzeLayer(streamOf(blob.bytes), blob.ref, {
    analyzers: [analyzer],
    limits: DEFAULT_LIMITS,
  });
  const facts = squashLayers([layer], { analyzers: [analyzer] }).facts;
  const fact = ContentFactSchema.parse(facts.content);
  const inventory: Inventory = {
    schemaVersion: 1,
    image: {
      ref: "oci:tools",
      registry: "",
      repository: "tools",
      digest: `sha256:${"1".repeat(64)}`,
      tags: [],
      platform: { os: "linux", architecture: "amd64" },
    },
    layers: [blob.ref.digest],
    analyzerSet: "test",
    packages: [],
    warnings: [],
    facts,
  };
  const { report } = makeReport(inventory, [], undefined, { policy: PolicySchema.parse({}) });
  return { fact, report, layer: blob.ref.digest };
}

describe("clamd as the second engine", () => {
  it("scans a stream over INSTREAM and names the signature", async () => {
    const client = new ClamdClient(parseClamdAddress(clamd.address));
    expect(await client.version()).toMatch(/^ClamAV \d+\.\d+/);
    const found = await client.scan(Buffer.from(EICAR));
    expect(found.infected && found.signature).toMatch(/^Portcullis\.Test\.EICAR/);
    expect(await client.scan(Buffer.from("harmless\n"))).toEqual({ infected: false });
    // bigger than one INSTREAM chunk, the signature straddling the chunk boundary
    const big = Buffer.concat([Buffer.alloc(65_530, 0x20), Buffer.from(MINER)]);
    const straddling = await client.scan(big);
    expect(straddling.infected && straddling.signature).toMatch(/^Portcullis\.Test\.Stratum/);
  });

  it("confirms what both engines flag, marks what one flags suspected, and blocks confirmed malware", async () => {
    const client = new ClamdClient(parseClamdAddress(clamd.address));
    const { fact, report, layer } = await scanLayer(createContentAnalyzer({ clamd: client }));
    expect(fact.warnings).toBeUndefined();
    expect(fact.findings.map((f) => [f.rule, f.path, f.confidence, f.engines])).toEqual([
      ["malware/eicar-test-file", "/opt/tools/eicar.com", "confirmed", ["portcullis", "clamav"]],
      ["malware/clamav", "/opt/tools/start.sh", "suspected", ["clamav"]],
    ]);
    expect(fact.findings[0]!.layer).toBe(layer);
    expect(fact.findings[0]!.sha256).toBe(createHash("sha256").update(EICAR).digest("hex"));
    expect(fact.findings[1]!.evidence.join(" ")).toMatch(/Portcullis\.Test\.Stratum/);
    expect(report.verdict?.decision).toBe("block");
    expect(report.content?.map((f) => f.tier)).toEqual(["block", "report"]);
  });

  it("without clamd, the same EICAR file is only suspected and reported, not blocked", async () => {
    const { fact, report } = await scanLayer(createContentAnalyzer());
    expect(fact.findings.map((f) => [f.rule, f.confidence, f.engines])).toEqual([
      ["malware/eicar-test-file", "suspected", ["portcullis"]],
    ]);
    expect(report.verdict?.decision).toBe("pass");
  });

  it("says in the warnings and the verdict when clamd is configured but unreachable", async () => {
    const closed = await freePort();
    const client = new ClamdClient(parseClamdAddress(`127.0.0.1:${closed}`));
    const { fact, report, layer } = await scanLayer(createContentAnalyzer({ clamd: client }));
    expect(fact.findings.map((f) => f.rule)).toEqual(["malware/eicar-test-file"]);
    // this scan runs the content engine alone, so the report also says the audit did not run
    expect(report.warnings.filter((w) => w.code !== "not-audited")).toEqual([
      expect.objectContaining({
        code: "clamd-unavailable",
        layer,
        message: expect.stringContaining("3 files"),
      }),
    ]);
    expect(report.verdict?.reasons.join("\n")).toContain("clamd could not scan 1 layer");
  });
});

describe("clamd client against hostile peers", () => {
  const servers: Server[] = [];
  const sockets: import("node:net").Socket[] = [];
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  });
  async function peer(onConnect: (socket: import("node:net").Socket) => void): Promise<number> {
    const server = createServer((socket) => {
      sockets.push(socket);
      onConnect(socket);
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    return (server.address() as { port: number }).port;
  }

  it("rejects an endless reply at 4 KiB", async () => {
    const port = await peer((s) => {
      s.on("error", () => {});
      s.write(Buffer.alloc(64 * 1024, 0x41));
    });
    const client = new ClamdClient(parseClamdAddress(`127.0.0.1:${port}`), 5_000);
    await expect(client.scan(Buffer.from("x"))).rejects.toThrow(/longer than 4096/);
  });

  it("times out on a peer that never answers", async () => {
    const port = await peer((s) => s.on("error", () => {}));
    const client = new ClamdClient(parseClamdAddress(`127.0.0.1:${port}`), 300);
    await expect(client.scan(Buffer.from("x"))).rejects.toThrow(/did not answer within 300 ms/);
    // the next file is not made to wait for the same hung daemon
    await expect(client.scan(Buffer.from("y"))).rejects.toThrow(/did not answer within 300 ms \(not retried/);
  });

  it("treats an ERROR, garbage or an empty reply as a failed scan, never as clean", () => {
    expect(() => parseScanReply("INSTREAM size limit exceeded. ERROR")).toThrow(/could not scan/);
    expect(() => parseScanReply("")).toThrow(/could not scan/);
    expect(() => parseScanReply("stream: OK trailing")).toThrow(/could not scan/);
    expect(parseScanReply("stream: OK\0")).toEqual({ infected: false });
    expect(parseScanReply("stream: Win.Test.EICAR_HDB-1 FOUND")).toEqual({
      infected: true,
      signature: "Win.Test.EICAR_HDB-1",
    });
  });

  it("parses PORTCULLIS_CLAMD addresses and refuses others", () => {
    expect(parseClamdAddress("tcp://127.0.0.1:3310")).toEqual({ kind: "tcp", host: "127.0.0.1", port: 3310 });
    expect(parseClamdAddress("localhost:3310")).toEqual({ kind: "tcp", host: "localhost", port: 3310 });
    expect(parseClamdAddress("unix:/run/clamav/clamd.ctl")).toEqual({
      kind: "unix",
      path: "/run/clamav/clamd.ctl",
    });
    expect(parseClamdAddress("/run/clamav/clamd.ctl")).toEqual({
      kind: "unix",
      path: "/run/clamav/clamd.ctl",
    });
    for (const bad of ["clamd", "127.0.0.1:0", "127.0.0.1:70000", "http://x:1/"])
      expect(() => parseClamdAddress(bad)).toThrow(/PORTCULLIS_CLAMD/);
  });
});

describe("clamd's signatures in the layer-cache key", () => {
  it("pins the engine and signature version clamd reports, and names a clamd that does not answer", async () => {
    const pinned = await pinClamdSignatures(contentAnalyzers(clamd.address));
    const marker = pinned.find((a) => a.name === "clamav");
    expect(marker?.ruleSet).toMatch(/^clamav:\d+\.\d+\.\d+/);
    expect(analyzerSetVersion(pinned)).not.toBe(analyzerSetVersion(contentAnalyzers(clamd.address)));

    const said: string[] = [];
    const down = await pinClamdSignatures(contentAnalyzers(`127.0.0.1:${await freePort()}`), (m) =>
      said.push(m),
    );
    expect(down.find((a) => a.name === "clamav")?.ruleSet).toBe("clamav:unreachable");
    expect(said.join("\n")).toMatch(/did not answer VERSION/);
    expect(analyzerSetVersion(down)).not.toBe(analyzerSetVersion(pinned));
  });

  it("reads the engine and database version from clamd's VERSION reply", () => {
    expect(clamdSignatureVersion("ClamAV 1.4.3/27490/Tue Dec  3 09:33:23 2024\n")).toBe("1.4.3/27490");
    expect(clamdSignatureVersion("ClamAV 1.0.7")).toBe("1.0.7");
    expect(clamdSignatureVersion("not clamd")).toBeUndefined();
  });
});
