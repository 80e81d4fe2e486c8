// The failures a user or operator reads carry a ScanError code (what to do about them), a parser's
// malformed input its own error class with a reason, and a broken invariant an InvariantError; the
// pipeline's retry rule depends on which transient failures stay transient.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClamdError } from "../../shared/analysis/content/clamd-error.js";
import { parseClamdAddress, parseScanReply } from "../../shared/analysis/content/clamd-client.js";
import { YaraEngine } from "../../shared/analysis/content/yara-engine.js";
import { readUserYaraRules } from "../../shared/analysis/content/yara-rule-dirs.js";
import { layerReportKey } from "../../shared/analysis/layer-cache.js";
import { readZipDirectory, readZipEntry } from "../../shared/analysis/maven/zip-directory.js";
import { ZipDirectoryError } from "../../shared/analysis/maven/zip-directory-error.js";
import { callServer } from "../../shared/cli/server-api.js";
import { InvariantError, isPermanent, ScanError } from "../../shared/model/errors.js";
import { BlobKeyError } from "../../shared/ports/blob-key-error.js";
import { assertBlobKey } from "../../shared/ports/fs-blob-store.js";
import type { TableStore } from "../../shared/ports/table-store.js";
import { createScan, type ScanState } from "../../shared/stages/scan-state.js";
import { readZipEntries } from "../../shared/vulndb/osv-export-feed.js";
import { ZipReadError } from "../../shared/vulndb/zip-read-error.js";
import { buildZip } from "../vulndb/support/zip.js";

/** What a call threw (the test fails when it did not throw). */
async function thrown(run: () => unknown): Promise<unknown> {
  try {
    await run();
  } catch (err) {
    return err;
  }
  throw new TypeError("expected a throw");
}

describe("the CLI's --server calls: each failure a code and a message saying what to do", () => {
  let server: Server;
  let base: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      const status = Number(req.url!.split("/").pop());
      if (status === 200) return res.writeHead(200, { "content-type": "text/html" }).end("<html>");
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify({ error: "no" }));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it.each([
    [401, "server-refused", /refused the request \(401\): pass --token/],
    [403, "server-refused", /refused the request \(403\)/],
    [404, "server-route-missing", /not found \(404\): is .* a portcullis server of this version\?/],
    [500, "server-error", /answered 500: no$/],
    [200, "server-error", /answered 200 with no JSON/],
  ])("status %i → %s", async (status, code, message) => {
    const err = await thrown(() => callServer({ server: base }, "GET", `status/${status}`));
    expect(err).toBeInstanceOf(ScanError);
    expect((err as ScanError).code).toBe(code);
    expect((err as ScanError).message).toMatch(message);
  });

  it("an unreachable server is server-unreachable, naming it", async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const err = await thrown(() => callServer({ server: `http://127.0.0.1:${port}` }, "GET", "x"));
    expect((err as ScanError).code).toBe("server-unreachable");
    expect((err as ScanError).message).toContain(`cannot reach http://127.0.0.1:${port}: ECONNREFUSED`);
  });
});

describe("user rule and setting errors", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "portcullis-typed-errors-"));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("a YARA rule directory that is missing is yara-rules-invalid, naming it", () => {
    const err = (() => {
      try {
        readUserYaraRules(["no-such-rules"], dir);
      } catch (e) {
        return e;
      }
    })();
    expect((err as ScanError).code).toBe("yara-rules-invalid");
    expect((err as ScanError).message).toContain(path.join(dir, "no-such-rules"));
  });

  it("a YARA rule file that does not compile is yara-rules-invalid, naming the file", async () => {
    await writeFile(path.join(dir, "broken.yar"), "rule broken { condition: ");
    const rules = readUserYaraRules(["."], dir);
    expect(() => new YaraEngine(rules)).toThrow(
      expect.objectContaining({ code: "yara-rules-invalid", message: expect.stringContaining("broken.yar") }),
    );
  });

  it("a PORTCULLIS_CLAMD value that names no address is invalid-settings", () => {
    expect(() => parseClamdAddress("clamd please")).toThrow(
      expect.objectContaining({
        code: "invalid-settings",
        message: expect.stringMatching(/^PORTCULLIS_CLAMD:/),
      }),
    );
  });

  it("a clamd reply that is not a verdict is a ClamdError, never a clean pass", () => {
    expect(() => parseScanReply("stream: Can't allocate memory ERROR")).toThrow(ClamdError);
  });
});

describe("parsers' malformed input: a class of their own with a reason callers can tell apart", () => {
  const zip = buildZip({ "META-INF/a.txt": "hello hello hello" });

  it("the in-memory zip reader names what is wrong", () => {
    const reason = (run: () => unknown) => {
      try {
        run();
      } catch (err) {
        expect(err).toBeInstanceOf(ZipDirectoryError);
        return (err as ZipDirectoryError).reason;
      }
      return "no error";
    };
    expect(reason(() => readZipDirectory(Buffer.from("not a zip at all, not even close")))).toBe("not-a-zip");
    expect(reason(() => readZipDirectory(zip.subarray(40)))).toBe("directory");
    const [entry] = readZipDirectory(zip).entries(() => true);
    expect(reason(() => readZipEntry(zip, { ...entry!, flags: 1 }))).toBe("encrypted");
    expect(reason(() => readZipEntry(zip, { ...entry!, compressionMethod: 12 }))).toBe(
      "unsupported-compression",
    );
    expect(reason(() => readZipEntry(zip, { ...entry!, uncompressedSize: 100 }))).toBe("size-mismatch");
    expect(reason(() => readZipEntry(zip, { ...entry!, localHeaderOffset: 5 }))).toBe("entry-data");
    expect(reason(() => readZipEntry(zip, entry!))).toBe("no error");
  });

  it("an OSV export with a bad CRC is db-feed-corrupt naming the file, caused by a ZipReadError", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "portcullis-typed-errors-"));
    try {
      const file = path.join(dir, "all.zip");
      await writeFile(file, buildZip({ "A-1.json": "{}" }, { corruptCrc: true }));
      const err = await thrown(() => readZipEntries(file, {}, () => {}));
      expect((err as ScanError).code).toBe("db-feed-corrupt");
      expect((err as ScanError).message).toBe("all.zip is not a readable zip: A-1.json: CRC mismatch");
      expect((err as ScanError).cause).toBeInstanceOf(ZipReadError);
      expect(((err as ScanError).cause as ZipReadError).reason).toBe("crc-mismatch");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("a blob key every adapter refuses is a BlobKeyError", () => {
    expect(() => assertBlobKey("layers/../../etc/passwd")).toThrow(BlobKeyError);
  });
});

describe("transient and internal failures", () => {
  it("a scan row that vanishes under a concurrent writer is concurrent-update, and retried", async () => {
    // another handler's insert won, then the row was gone before it could be read
    const tables = {
      insertIfAbsent: async () => ({ ok: false, conflict: "exists" }),
      get: async () => undefined,
    } as unknown as TableStore;
    const state = { scanId: "s1", kind: "request", status: "queued", tags: [], layers: [], pending: [] };
    const err = await thrown(() => createScan(tables, state as unknown as ScanState));
    expect((err as ScanError).code).toBe("concurrent-update");
    expect(isPermanent(err)).toBe(false);
  });

  it("an analyzer-set version the code made wrong is an InvariantError, not a user's problem", () => {
    expect(() => layerReportKey(`sha256:${"a".repeat(64)}`, "../x")).toThrow(InvariantError);
    expect(() => layerReportKey(`sha256:${"a".repeat(64)}`, "../x")).toThrow(/^internal error: /);
  });
});
