import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";

const fixture = (name: string) =>
  readFileSync(fileURLToPath(new URL(`../../fixtures/windows/msrc/${name}`, import.meta.url)));

export interface MsrcServer {
  baseUrl: string;
  requests: { path: string; headers: IncomingHttpHeaders; status: number }[];
  /** replace what a path serves (body, or a bare status), with no ETag */
  override: Map<string, { status: number; body?: string }>;
  /** publish a body at a path as the real API would: with an ETag, and 304 to a matching If-None-Match */
  published: Map<string, string>;
  close(): Promise<void>;
}

/** A loopback MSRC API serving the CVRF v3 JSON fixtures, with ETags and 304s like the real one. */
export async function startMsrcServer(): Promise<MsrcServer> {
  const requests: MsrcServer["requests"] = [];
  const override = new Map<string, { status: number; body?: string }>();
  const published = new Map<string, string>();
  const server = createServer((req, res) => {
    const path = req.url ?? "/";
    const send = (status: number, body?: Buffer | string, etag?: string) => {
      requests.push({ path, headers: req.headers, status });
      res.writeHead(status, { "content-type": "application/json", ...(etag ? { etag } : {}) });
      res.end(body);
    };
    const forced = override.get(path);
    if (forced) return send(forced.status, forced.body);
    const month = /^\/cvrf\/v3\.0\/cvrf\/(\d{4}-[A-Za-z]{3})$/.exec(path)?.[1];
    let body: Buffer;
    try {
      const own = published.get(path);
      if (own !== undefined) body = Buffer.from(own);
      else if (path === "/cvrf/v3.0/updates") body = fixture("updates.json");
      else if (month) body = fixture(`cvrf-${month}.json`);
      else return send(404, "{}");
    } catch {
      return send(404, "{}");
    }
    const etag = `"${createHash("sha256").update(body).digest("hex").slice(0, 16)}"`;
    if (req.headers["if-none-match"] === etag) return send(304, undefined, etag);
    send(200, body, etag);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    override,
    published,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
