import { createHash } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";

/** How one ecosystem's `all.zip` is served. */
export type ExportFault =
  /** the whole body, as a healthy bucket sends it */
  | "none"
  /** headers with the full Content-Length, half the body, then the socket is destroyed */
  | "cut-mid-body";

export interface ExportRequest {
  method: string;
  path: string;
  ifNoneMatch?: string;
  ifModifiedSince?: string;
  status: number;
}

export interface OsvExportServer {
  /** http://127.0.0.1:port — what `--db-url` takes */
  url: string;
  /** every request so far, in order */
  readonly requests: readonly ExportRequest[];
  /** publishes a new export for an ecosystem: a new ETag and a later Last-Modified */
  publish(ecosystem: string, zip: Buffer, fault?: ExportFault): void;
  stop(): Promise<void>;
}

interface Published {
  body: Buffer;
  etag: string;
  lastModified: Date;
  fault: ExportFault;
}

/**
 * A loopback stand-in for the OSV export bucket (`<base>/<Ecosystem>/all.zip`) with the bucket's
 * caching behaviour: ETag and Last-Modified on every export, 304 on a matching conditional request
 * (If-None-Match wins over If-Modified-Since, as RFC 9110 says), 404 for an unknown ecosystem.
 */
export async function startOsvExportServer(): Promise<OsvExportServer> {
  const exports = new Map<string, Published>();
  const requests: ExportRequest[] = [];
  // whole seconds: Last-Modified has no finer resolution, and each publish must be later
  let clock = Math.floor(Date.now() / 1000) * 1000 - 3_600_000;

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const ecosystem = /^\/([^/]+)\/all\.zip$/.exec(url.pathname)?.[1];
    const published = ecosystem === undefined ? undefined : exports.get(decodeURIComponent(ecosystem));
    const ifNoneMatch = req.headers["if-none-match"];
    const ifModifiedSince = req.headers["if-modified-since"];
    const log = (status: number) =>
      requests.push({
        method: req.method ?? "",
        path: url.pathname,
        ...(ifNoneMatch === undefined ? {} : { ifNoneMatch }),
        ...(ifModifiedSince === undefined ? {} : { ifModifiedSince }),
        status,
      });

    if (req.method !== "GET" && req.method !== "HEAD") {
      log(405);
      res.writeHead(405, { Allow: "GET, HEAD" }).end();
      return;
    }
    if (published === undefined) {
      log(404);
      res.writeHead(404, { "Content-Type": "text/plain" }).end("No such object\n");
      return;
    }
    const validators = {
      ETag: published.etag,
      "Last-Modified": published.lastModified.toUTCString(),
      "Cache-Control": "public, max-age=3600",
    };
    const notModified =
      ifNoneMatch !== undefined
        ? ifNoneMatch.split(",").some((t) => t.trim() === published.etag || t.trim() === "*")
        : ifModifiedSince !== undefined && Date.parse(ifModifiedSince) >= published.lastModified.getTime();
    if (notModified) {
      log(304);
      res.writeHead(304, validators).end();
      return;
    }
    log(200);
    res.writeHead(200, {
      ...validators,
      "Content-Type": "application/zip",
      "Content-Length": String(published.body.length),
    });
    if (req.method === "HEAD") {
      res.end();
      return;
    }
    if (published.fault === "cut-mid-body") {
      res.write(published.body.subarray(0, Math.floor(published.body.length / 2)), () => {
        // let the half reach the client before the connection dies under it
        setTimeout(() => req.socket.destroy(), 50);
      });
      return;
    }
    res.end(published.body);
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    publish(ecosystem, zip, fault = "none") {
      clock += 60_000;
      const hash = createHash("sha256").update(zip).update(fault).digest("hex").slice(0, 32);
      exports.set(ecosystem, { body: zip, etag: `"${hash}"`, lastModified: new Date(clock), fault });
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
