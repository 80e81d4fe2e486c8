import { z } from "zod";
import type { HeaderBag } from "./headers.js";
import { isScannableManifest } from "./manifest-push.js";
import { type PushEvent, parseEventBody, pushEvent } from "./push-event.js";
import { AcrRequestSchema, RegistryTargetSchema } from "./registry-target.js";

/** Azure Container Registry's classic webhook: one event per POST (push, delete, chart_push, chart_delete, ping); pushes scan, deletes reach tracking. */
const AcrWebhookSchema = z.looseObject({
  id: z.string().min(1),
  timestamp: z.string().optional(),
  action: z.string(),
});

const AcrPushSchema = z.looseObject({
  id: z.string().min(1),
  timestamp: z.string().optional(),
  target: RegistryTargetSchema,
  request: AcrRequestSchema,
});

export function parseAcrWebhook(body: unknown, _headers: HeaderBag): PushEvent[] {
  const { action } = parseEventBody("acr-webhook", AcrWebhookSchema, body);
  if (action !== "push" && action !== "delete") return [];
  const event = parseEventBody("acr-webhook", AcrPushSchema, body);
  // a delete goes to tracking whatever it removed; a push only when it is something we scan
  if (action === "push" && !isScannableManifest(event.target.mediaType, { optional: true })) return [];
  return [
    pushEvent({
      source: "acr-webhook",
      eventId: event.id,
      registry: event.request.host,
      repository: event.target.repository,
      tag: event.target.tag,
      digestCandidates: [event.target.digest],
      occurredAt: event.timestamp,
      ...(action === "delete" ? { action } : { mediaType: event.target.mediaType }),
    }),
  ];
}
