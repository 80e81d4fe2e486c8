import { TableKeyError } from "../ports/table-key.js";
import type { HeaderBag } from "../hooks/headers.js";

/** A request as both hosts hand it over: node:http on the local host, the Functions runtime in Azure. */
export interface RouteRequest {
  method: string;
  /** the path as received, e.g. `/api/images/127.0.0.1:5000/app/sha256:…` */
  path: string;
  query: URLSearchParams;
  headers: HeaderBag;
  /** the body exactly as received (signatures are computed over it), already size-bounded */
  rawBody: Buffer;
  /** template parameters (`{scanId}`, `{*path}`), filled by the router or the Functions runtime */
  params?: Record<string, string>;
}

/** A body that is an object is sent as JSON; a Buffer or string as is. */
export interface RouteResponse {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export type RouteHandler<D> = (req: RouteRequest, deps: D) => Promise<RouteResponse>;

/** A JSON error answer: `{ error: reason }`. */
export function errorResponse(
  status: number,
  reason: string,
  headers?: Record<string, string>,
): RouteResponse {
  return { status, body: { error: reason }, ...(headers ? { headers } : {}) };
}

/** Serialises a RouteResponse body: what both adapters write on the wire. */
export function responseBytes(res: RouteResponse): { body: Buffer | undefined; contentType?: string } {
  if (res.body === undefined) return { body: undefined };
  if (Buffer.isBuffer(res.body)) return { body: res.body, contentType: "application/json" };
  if (typeof res.body === "string")
    return { body: Buffer.from(res.body), contentType: "text/plain; charset=utf-8" };
  return { body: Buffer.from(JSON.stringify(res.body)), contentType: "application/json" };
}

/**
 * The answer to a route that threw. A key the tables cannot hold (a repository or tag too long once
 * encoded) comes from the request, so it is the caller's 400; anything else is our 500.
 */
export function thrownResponse(err: unknown): { response: RouteResponse; internal: boolean } {
  if (err instanceof TableKeyError)
    return { response: errorResponse(400, `image name not accepted: ${err.message}`), internal: false };
  return { response: errorResponse(500, `internal error: ${(err as Error).message}`), internal: true };
}
