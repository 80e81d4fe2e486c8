import { z } from "zod";
import { eventData, eventTypeOf } from "./event-grid.js";
import { type HeaderBag, headerValue } from "./headers.js";

/**
 * The two ways Event Grid proves an endpoint wants its events, as pure functions the HTTP layer
 * calls before parsing: the Event Grid schema's validation event, and CloudEvents' abuse protection.
 */

export const SUBSCRIPTION_VALIDATION = "Microsoft.EventGrid.SubscriptionValidationEvent";

const ValidationEventSchema = z.looseObject({
  id: z.string(),
  eventType: z.string().optional(),
  type: z.string().optional(),
  data: z.unknown(),
});
const ValidationDataSchema = z.looseObject({
  validationCode: z.string().min(1),
  validationUrl: z.string().optional(),
});

/**
 * Event Grid schema: a POST whose array holds a `SubscriptionValidationEvent` is answered 200 with
 * `{ validationResponse: <validationCode> }`. `undefined` when the body is not a validation request.
 */
export function eventGridValidationResponse(body: unknown): { validationResponse: string } | undefined {
  const events = z.array(ValidationEventSchema).safeParse(Array.isArray(body) ? body : [body]);
  if (!events.success) return undefined;
  const validation = events.data.find(
    (e) => (e.eventType !== undefined || e.type !== undefined) && eventTypeOf(e) === SUBSCRIPTION_VALIDATION,
  );
  if (!validation) return undefined;
  const data = ValidationDataSchema.safeParse(eventData(validation));
  return data.success ? { validationResponse: data.data.validationCode } : undefined;
}

export type AbuseProtectionResponse =
  | { status: 200; headers: { "WebHook-Allowed-Origin": string; "WebHook-Allowed-Rate": string } }
  | { status: 403; reason: string };

/**
 * CloudEvents 1.0 webhook abuse protection: Event Grid sends `OPTIONS` with `WebHook-Request-Origin`
 * (`eventgrid.azure.net`) and expects the origin echoed in `WebHook-Allowed-Origin`. `undefined`
 * when the request is not such a handshake. `allowedOrigins` limits who may subscribe.
 */
export function cloudEventsAbuseProtection(
  method: string,
  headers: HeaderBag,
  options: { allowedOrigins?: readonly string[] } = {},
): AbuseProtectionResponse | undefined {
  if (method.toUpperCase() !== "OPTIONS") return undefined;
  const origin = headerValue(headers, "webhook-request-origin")?.trim();
  if (!origin) return undefined;
  const allowed = options.allowedOrigins ?? ["eventgrid.azure.net"];
  if (!allowed.includes("*") && !allowed.some((o) => o.toLowerCase() === origin.toLowerCase())) {
    return { status: 403, reason: `origin "${origin}" may not deliver events here` };
  }
  return { status: 200, headers: { "WebHook-Allowed-Origin": origin, "WebHook-Allowed-Rate": "*" } };
}
