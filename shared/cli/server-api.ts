import { UsageError } from "./usage-error.js";
import { ScanError } from "../model/errors.js";

/** How the CLI reaches a running portcullis (`serve`, or the Functions app) for `--server` commands. */
export interface ServerOptions {
  /** the server's base URL: http://127.0.0.1:7071 or https://<app>.azurewebsites.net */
  server: string;
  /** the hook token `serve` prints (sent as `Authorization: Bearer`) */
  token?: string;
  /** the Functions app's function key (sent as `x-functions-key`) */
  functionKey?: string;
  fetch?: typeof globalThis.fetch;
}

/** Where `serve` listens by default. */
export const DEFAULT_SERVER = "http://127.0.0.1:7071";

/** The base URL of `--server`, checked before anything is sent. */
export function serverUrl(server: string): URL {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new UsageError(`--server: not a URL: ${server}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new UsageError(`--server: not an http(s) URL: ${server}`);
  return url;
}

/**
 * Calls the server's API and returns its JSON answer; every way it can fail says what to do: an
 * unreachable server, a refused credential, a server that has no such route, an error it reports.
 */
export async function callServer(
  options: ServerOptions,
  method: "GET" | "POST",
  apiPath: string,
  body?: unknown,
): Promise<Record<string, unknown>> {
  const base = serverUrl(options.server);
  const url = new URL(`api/${apiPath}`, base.href.endsWith("/") ? base : `${base.href}/`);
  const headers: Record<string, string> = { accept: "application/json" };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.functionKey) headers["x-functions-key"] = options.functionKey;
  if (body !== undefined) headers["content-type"] = "application/json";
  let res: Response;
  try {
    res = await (options.fetch ?? fetch)(url, {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new ScanError(
      "server-unreachable",
      `cannot reach ${base.origin}: ${cause?.code ?? cause?.message ?? (err as Error).message}`,
    );
  }
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : {};
  } catch {
    parsed = undefined;
  }
  const answer = parsed && typeof parsed === "object" ? (parsed as Record<string, unknown>) : undefined;
  if (res.ok && answer) return answer;
  const said = typeof answer?.error === "string" ? answer.error : text.slice(0, 200).trim();
  if (res.status === 401 || res.status === 403)
    throw new ScanError(
      "server-refused",
      `${base.origin} refused the request (${res.status}): pass --token (serve's hook token, default $PORTCULLIS_HOOK_TOKEN) or --function-key (the Functions app)${said ? `: ${said}` : ""}`,
    );
  if (res.status === 404 || res.status === 405)
    throw new ScanError(
      "server-route-missing",
      `${method} ${url.href} not found (${res.status}): is ${base.origin} a portcullis server of this version?`,
    );
  if (res.ok) throw new ScanError("server-error", `${url.href} answered ${res.status} with no JSON`);
  throw new ScanError("server-error", `${url.href} answered ${res.status}${said ? `: ${said}` : ""}`);
}
