// One clamd IDSESSION for a layer's files: Debian's real clamd answers several scans on one
// connection, and peers that answer out of order or hang up half-way are matched or reported, never
// taken for a clean pass.
import { createServer, type Server, Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { analyzeLayer } from "../../../shared/analysis/analyze-layer.js";
import {
  ClamdClient,
  createContentAnalyzer,
  parseClamdAddress,
} from "../../../shared/analysis/content/index.js";
import { squashLayers } from "../../../shared/analysis/squash.js";
import { ContentFactSchema } from "../../../shared/model/content.js";
import { DEFAULT_LIMITS } from "../../../shared/model/limits.js";
import { EICAR, type RunningClamd, startTestClamd } from "../../support/clamd.js";
import { layerBlob, streamOf } from "../layers.js";

const MINER = "#!/bin/sh\nexec ./xmrig -o stratum+tcp://127.0.0.1:3333 -u wallet\n";

let clamd: RunningClamd;
const servers: Server[] = [];
const sockets: Socket[] = [];
beforeAll(async () => {
  clamd = await startTestClamd();
}, 60_000);
afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  await clamd?.stop();
});

async function listen(onConnect: (socket: Socket) => void): Promise<number> {
  const server = createServer((socket) => {
    sockets.push(socket);
    socket.on("error", () => {});
    onConnect(socket);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return (server.address() as { port: number }).port;
}

/** A loopback relay to the real clamd that counts the connections made through it. */
async function countingRelay(): Promise<{ port: number; connections: () => number }> {
  let connections = 0;
  const port = await listen((client) => {
    connections++;
    const upstream = new Socket();
    sockets.push(upstream);
    upstream.on("error", () => client.destroy());
    upstream.connect(clamd.port, "127.0.0.1");
    client.pipe(upstream);
    upstream.pipe(client);
  });
  return { port, connections: () => connections };
}

/**
 * A peer speaking clamd's session framing: it reads `zIDSESSION`, then each `zINSTREAM` stream, and
 * `answer` decides what to write for the streams seen so far (ids from 1).
 */
async function sessionPeer(answer: (socket: Socket, streams: Buffer[]) => void): Promise<number> {
  return listen((socket) => {
    let buffered = Buffer.alloc(0);
    const streams: Buffer[] = [];
    let current: Buffer[] | undefined;
    socket.on("data", (data: Buffer) => {
      buffered = Buffer.concat([buffered, data]);
      for (;;) {
        if (current === undefined) {
          const nul = buffered.indexOf(0);
          if (nul === -1) return;
          const command = buffered.subarray(0, nul).toString();
          buffered = buffered.subarray(nul + 1);
          if (command === "zINSTREAM") current = [];
          continue;
        }
        if (buffered.length < 4) return;
        const size = buffered.readUInt32BE(0);
        if (buffered.length < 4 + size) return;
        if (size === 0) {
          streams.push(Buffer.concat(current));
          current = undefined;
          answer(socket, streams);
        } else current.push(buffered.subarray(4, 4 + size));
        buffered = buffered.subarray(4 + size);
      }
    });
  });
}

async function scanLayer(client: ClamdClient, names: string[]) {
  const analyzer = createContentAnalyzer({ clamd: client });
  const contents = [EICAR, MINER, "#!/bin/sh\necho one\n", "#!/bin/sh\necho two\n"];
  const blob = await layerBlob(names.map((name, i) => ({ name, content: contents[i % contents.length]! })));
  const layer = await analyzeLayer(streamOf(blob.bytes), blob.ref, {
    analyzers: [analyzer],
    limits: DEFAULT_LIMITS,
  });
  const clamav = (path: string) =>
    (layer.files.find((f) => f.path === path)!.output.data as { clamav?: unknown }[])[0]?.clamav;
  const fact = ContentFactSchema.parse(squashLayers([layer], { analyzers: [analyzer] }).facts.content);
  return { clamav, fact, layer: blob.ref.digest };
}

describe("clamd's IDSESSION", () => {
  it("scans a layer's files over one connection to the real clamd, each verdict on its own file", async () => {
    const relay = await countingRelay();
    const client = new ClamdClient(parseClamdAddress(`127.0.0.1:${relay.port}`));
    const names = Array.from({ length: 12 }, (_, i) => `opt/tools/t${i}.sh`);
    const { clamav, fact } = await scanLayer(client, names);
    expect(relay.connections()).toBe(1);
    for (const [i, name] of names.entries()) {
      const expected = [/^Portcullis\.Test\.EICAR/, /^Portcullis\.Test\.Stratum/][i % 4];
      if (expected) expect(clamav(name)).toEqual({ signature: expect.stringMatching(expected) });
      else expect(clamav(name)).toBeUndefined();
    }
    expect(fact.warnings).toBeUndefined();
    // files bigger than one INSTREAM chunk, in flight together
    const big = (tail: string) => Buffer.concat([Buffer.alloc(200_000, 0x20), Buffer.from(tail)]);
    const verdicts = await Promise.all([client.scan(big(MINER)), client.scan(big("clean\n"))]);
    expect(verdicts).toEqual([
      { infected: true, signature: expect.stringMatching(/^Portcullis\.Test\.Stratum/) },
      { infected: false },
    ]);
    expect(relay.connections()).toBe(1);
    client.close();
  });

  it("matches replies that come out of order to their files by id", async () => {
    const port = await sessionPeer((socket, streams) => {
      // answers only once three streams are in, last first
      if (streams.length !== 3) return;
      socket.write("3: stream: OK\0");
      socket.write("1: stream: Test.First FOUND\0");
      socket.write("2: stream: Test.Second FOUND\0");
    });
    const client = new ClamdClient(parseClamdAddress(`127.0.0.1:${port}`), 5_000);
    const sent = await Promise.all(["a", "b", "c"].map((s) => client.submit(Buffer.from(s))));
    expect(await Promise.all(sent.map((s) => s.verdict))).toEqual([
      { infected: true, signature: "Test.First" },
      { infected: true, signature: "Test.Second" },
      { infected: false },
    ]);
    client.close();
  });

  it("reports the files clamd had not answered when it closes the session half-way", async () => {
    const port = await sessionPeer((socket, streams) => {
      if (streams.length === 1) socket.write("1: stream: OK\0");
      if (streams.length === 2) socket.destroy();
    });
    const client = new ClamdClient(parseClamdAddress(`127.0.0.1:${port}`), 5_000);
    const names = ["opt/x/a.sh", "opt/x/b.sh", "opt/x/c.sh", "opt/x/d.sh"];
    const { clamav, fact, layer } = await scanLayer(client, names);
    expect(clamav(names[0]!)).toBeUndefined();
    for (const name of names.slice(1))
      expect(clamav(name)).toEqual({ error: expect.stringMatching(/closed the session|ECONNRESET|EPIPE/) });
    expect(fact.warnings).toEqual([
      expect.objectContaining({
        code: "clamd-unavailable",
        layer,
        message: expect.stringContaining("3 files"),
      }),
    ]);
    // the portcullis engine still names the EICAR file
    expect(fact.findings.map((f) => [f.rule, f.engines])).toEqual([
      ["malware/eicar-test-file", ["portcullis"]],
    ]);
  });

  it("treats a reply for no scan of the session as a failure of every scan in flight", async () => {
    const port = await sessionPeer((socket, streams) => {
      if (streams.length === 2) socket.write("7: stream: OK\0");
    });
    const client = new ClamdClient(parseClamdAddress(`127.0.0.1:${port}`), 5_000);
    const sent = await Promise.all(["a", "b"].map((s) => client.submit(Buffer.from(s))));
    for (const { verdict } of sent) await expect(verdict).rejects.toThrow(/answered no scan of this session/);
  });
});
