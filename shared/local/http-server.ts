import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { HttpDeps } from "../http/http-deps.js";
import { errorResponse, type RouteResponse, responseBytes } from "../http/http-types.js";
import { MAX_BODY_BYTES } from "../http/json-body.js";
import { dispatch } from "../http/router.js";
import type { RouteDefinition } from "../http/routes.js";
import { isLoopbackHost, localRoutes } from "./query-api-guard.js";

export interface LocalHttpServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** The HTTP routes on node:http: bodies bounded while they stream, answers from the shared router. */
export async function startHttpServer(
  deps: HttpDeps,
  options: {
    host: string;
    port: number;
    requireTokenForQueries?: boolean;
    /** runs before the answer to any request that may have written (not GET or HEAD) is sent */
    beforeWriteAnswer?: () => void;
  },
): Promise<LocalHttpServer> {
  const routes = localRoutes(options.requireTokenForQueries ?? !isLoopbackHost(options.host));
  const server = createServer((req, res) => {
    handle(req, res, deps, routes, options.beforeWriteAnswer).catch((err: unknown) => {
      deps.log(`http: ${(err as Error).message}`);
      if (!res.headersSent) send(res, errorResponse(500, "internal error"));
      else res.destroy();
    });
  });
  // Keep-alive sockets must not hold shutdown hostage.
  server.keepAliveTimeout = 5_000;
  await listen(server, options);
  const { port } = server.address() as AddressInfo;
  const shownHost = options.host.includes(":") ? `[${options.host}]` : options.host;
  return {
    url: `http://${shownHost}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  deps: HttpDeps,
  routes: readonly RouteDefinition[],
  beforeWriteAnswer: (() => void) | undefined,
): Promise<void> {
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > MAX_BODY_BYTES) {
    send(res, errorResponse(413, `body larger than ${MAX_BODY_BYTES} bytes`), true);
    return;
  }
  const rawBody = await readBody(req);
  if (!rawBody) {
    send(res, errorResponse(413, `body larger than ${MAX_BODY_BYTES} bytes`), true);
    return;
  }
  const url = new URL(req.url ?? "/", "http://localhost");
  const answer = await dispatch(
    {
      method: req.method ?? "GET",
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      rawBody,
    },
    deps,
    routes,
  );
  // a 202 promises the work is kept: what the route wrote is made durable before anyone hears of it
  if (beforeWriteAnswer && req.method !== "GET" && req.method !== "HEAD") beforeWriteAnswer();
  send(res, answer);
}

/** The body, or undefined once it grows past the limit (the rest is not read). */
function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        req.removeAllListeners("data");
        req.resume();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function send(res: ServerResponse, answer: RouteResponse, close = false): void {
  const { body, contentType } = responseBytes(answer);
  const headers: Record<string, string> = { ...answer.headers };
  if (contentType && !Object.keys(headers).some((h) => h.toLowerCase() === "content-type"))
    headers["Content-Type"] = contentType;
  if (close) headers.Connection = "close";
  res.writeHead(answer.status, headers);
  res.end(body);
}

function listen(server: Server, options: { host: string; port: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
}
