import { UsageError } from "./usage-error.js";

/** Where a running portcullis (`serve`, or the Function App) is, and how to prove who we are. */
export interface ServerAccess {
  /** base URL: `http://127.0.0.1:7071`, `https://<app>.azurewebsites.net` */
  server: string;
  /** the hook token (`serve` beyond loopback) */
  token?: string;
  /** the Function App's function key (Azure) */
  functionKey?: string;
}

export const DEFAULT_SERVER = "http://127.0.0.1:7071";

/** Calls `/api/<path>` on the server; a body that is not JSON is answered as `{ error: <text> }`. */
export async function callServer(
  access: ServerAccess,
  path: string,
  init: { method?: "GET" | "POST"; body?: unknown } = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  if (!/^https?:\/\/[^/]/.test(access.server))
    throw new UsageError(`--server: not an http(s) URL: ${access.server}`);
  const url = `${access.server.replace(/\/+$/, "")}/api/${path}`;
  const headers: Record<string, string> = { accept: "application/json" };
  if (access.token) headers.authorization = `Bearer ${access.token}`;
  if (access.functionKey) headers["x-functions-key"] = access.functionKey;
  if (init.body !== undefined) headers["content-type"] = "application/json";
  let response: Response;
  try {
    response = await fetch(url, {
      method: init.method ?? "GET",
      headers,
      ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
    });
  } catch (err) {
    const cause = (err as { cause?: { message?: string } }).cause?.message;
    throw new Error(`cannot reach ${access.server}: ${cause ?? (err as Error).message}`);
  }
  const text = await response.text();
  let body: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(text);
    body =
      typeof parsed === "object" && parsed !== null ? (parsed as Record<string, unknown>) : { value: parsed };
  } catch {
    body = { error: text.slice(0, 500) };
  }
  return { status: response.status, body };
}
