import { createHash } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface ServedExport {
  body: Buffer;
  /** send half the body, then destroy the socket */
  cutShort?: boolean;
}

/**
 * A loopback stand-in for the OSV export bucket: serves `/<Ecosystem>/all.zip` with an ETag and
 * Last-Modified, answers conditional requests with 304, and counts requests and body bytes sent.
 */
export class ExportServer {
  readonly exports = new Map<string, ServedExport>();
  requests: { path: string; status: number; bytes: number }[] = [];
  private server?: http.Server;
  url = "";

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  serve(ecosystem: string, body: Buffer, options: { cutShort?: boolean } = {}): void {
    this.exports.set(`/${encodeURIComponent(ecosystem)}/all.zip`, { body, ...options });
  }

  get bytesSent(): number {
    return this.requests.reduce((n, r) => n + r.bytes, 0);
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const path = req.url ?? "";
    const served = this.exports.get(path);
    if (!served) {
      this.requests.push({ path, status: 404, bytes: 0 });
      res.writeHead(404).end();
      return;
    }
    const etag = `"${createHash("sha256").update(served.body).digest("hex").slice(0, 16)}"`;
    const lastModified = "Tue, 01 Jul 2025 10:00:00 GMT";
    if (req.headers["if-none-match"] === etag) {
      this.requests.push({ path, status: 304, bytes: 0 });
      res.writeHead(304, { ETag: etag, "Last-Modified": lastModified }).end();
      return;
    }
    const headers = {
      "Content-Type": "application/zip",
      "Content-Length": String(served.body.length),
      ETag: etag,
      "Last-Modified": lastModified,
    };
    if (served.cutShort) {
      const half = served.body.subarray(0, Math.floor(served.body.length / 2));
      this.requests.push({ path, status: 200, bytes: half.length });
      res.writeHead(200, headers);
      res.write(half, () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    }
    this.requests.push({ path, status: 200, bytes: served.body.length });
    res.writeHead(200, headers).end(served.body);
  }
}
