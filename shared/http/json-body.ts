import { z } from "zod";
import { errorResponse, type RouteResponse } from "./http-types.js";

/** The largest request body any route reads: push notifications and scan requests are small. */
export const MAX_BODY_BYTES = 1024 * 1024;

export type BodyResult<T> = { ok: true; value: T } | { ok: false; response: RouteResponse };

/** Parses a raw body as JSON (and, when given, against a schema); malformed input is a 400 with the reason. */
export function readJsonBody<T = unknown>(rawBody: Buffer, schema?: z.ZodType<T>): BodyResult<T> {
  if (rawBody.length > MAX_BODY_BYTES)
    return { ok: false, response: errorResponse(413, `body larger than ${MAX_BODY_BYTES} bytes`) };
  if (rawBody.length === 0) return { ok: false, response: errorResponse(400, "empty body: JSON expected") };
  let json: unknown;
  try {
    json = JSON.parse(rawBody.toString("utf8"));
  } catch (err) {
    return { ok: false, response: errorResponse(400, `malformed JSON: ${(err as Error).message}`) };
  }
  if (!schema) return { ok: true, value: json as T };
  const parsed = schema.safeParse(json);
  if (!parsed.success)
    return { ok: false, response: errorResponse(400, z.prettifyError(parsed.error).replace(/\n/g, "; ")) };
  return { ok: true, value: parsed.data };
}
