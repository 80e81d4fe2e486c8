// Request builders for driving the pipeline through its HTTP routes.
import type { RouteRequest } from "../../shared/http/http-types.js";

export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";

/** A Distribution notification envelope with one manifest push, as the registry sends it. */
export function distributionPush(
  registry: string,
  repository: string,
  tag: string,
  digest: string,
  eventId: string,
): object {
  return {
    events: [
      {
        id: eventId,
        timestamp: new Date().toISOString(),
        action: "push",
        target: {
          mediaType: OCI_MANIFEST,
          digest,
          repository,
          tag,
          url: `http://${registry}/v2/${repository}/manifests/${digest}`,
        },
        request: { host: registry },
      },
    ],
  };
}

export function request(
  method: string,
  pathAndQuery: string,
  options: { body?: unknown; headers?: Record<string, string> } = {},
): RouteRequest {
  const url = new URL(pathAndQuery, "http://localhost");
  const raw =
    options.body === undefined
      ? Buffer.alloc(0)
      : Buffer.isBuffer(options.body)
        ? options.body
        : Buffer.from(typeof options.body === "string" ? options.body : JSON.stringify(options.body));
  return {
    method,
    path: url.pathname,
    query: url.searchParams,
    headers: options.headers ?? {},
    rawBody: raw,
  };
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
