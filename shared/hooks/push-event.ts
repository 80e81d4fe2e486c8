import { z } from "zod";
import { DigestSchema } from "../model/digest.js";
import { canonicalRegistry } from "../model/image-reference.js";
import { RegistryHostSchema, RepositoryNameSchema, TagSchema } from "../model/oci-name.js";

export const PushEventSourceSchema = z.enum([
  "distribution",
  "acr-webhook",
  "acr-eventgrid",
  "harbor",
  "ghcr",
]);
export type PushEventSource = z.infer<typeof PushEventSourceSchema>;

/** One image manifest pushed to a registry, whatever the registry's notification format. */
export const PushEventSchema = z
  .object({
    /** the sender's id for this event (or one derived from its content when the format has none) */
    eventId: z.string().min(1),
    /** host[:port], lower case */
    registry: RegistryHostSchema,
    repository: RepositoryNameSchema,
    tag: TagSchema.optional(),
    digest: DigestSchema.optional(),
    mediaType: z.string().optional(),
    source: PushEventSourceSchema,
    /** ISO-8601, as the sender stated it */
    occurredAt: z.string().optional(),
    /** "delete": the manifest left the registry — tracking follows, nothing is scanned (omitted = a push) */
    action: z.enum(["push", "delete"]).optional(),
  })
  .refine((e) => e.tag !== undefined || e.digest !== undefined, "a push event needs a tag or a digest");

/** A registry event that removed a manifest: routed to tracking, never to a scan. */
export const isDeleteEvent = (event: PushEvent): boolean => event.action === "delete";
export type PushEvent = z.infer<typeof PushEventSchema>;

/** A body that is not what the endpoint takes: the HTTP layer answers 400 with this message. */
export class MalformedEventError extends Error {
  readonly source: PushEventSource;
  constructor(source: PushEventSource, message: string, options?: { cause?: unknown }) {
    super(`${source} event: ${message}`, options);
    this.name = "MalformedEventError";
    this.source = source;
  }
}

/** Validates `body` against a format schema, turning zod's issues into one readable error. */
export function parseEventBody<S extends z.ZodType>(
  source: PushEventSource,
  schema: S,
  body: unknown,
): z.infer<S> {
  const result = schema.safeParse(body);
  if (!result.success)
    throw new MalformedEventError(source, z.prettifyError(result.error).replace(/\n/g, "; "));
  return result.data;
}

const isDigest = (value: string | undefined): value is string =>
  value !== undefined && DigestSchema.safeParse(value).success;

/**
 * Builds a PushEvent from what a parser found, normalising the loose parts of real payloads: a tag
 * that is really a digest (Harbor reports digest pushes so) is no tag; a digest that is not a valid
 * one is dropped when a tag names the image anyway, and is an error otherwise.
 */
export function pushEvent(fields: {
  source: PushEventSource;
  eventId: string;
  registry: string;
  repository: string;
  tag?: string | undefined;
  digestCandidates: (string | undefined)[];
  mediaType?: string | undefined;
  occurredAt?: string | undefined;
  action?: "delete";
}): PushEvent {
  const tag = fields.tag && !fields.tag.includes(":") ? fields.tag : undefined;
  const digest = fields.digestCandidates.find(isDigest);
  if (!tag && !digest) {
    throw new MalformedEventError(
      fields.source,
      `${fields.action ?? "push"} of ${fields.repository} names neither a tag nor a valid digest`,
    );
  }
  return parseEventBody(fields.source, PushEventSchema, {
    eventId: fields.eventId,
    registry: canonicalRegistry(fields.registry),
    repository: fields.repository,
    ...(tag ? { tag } : {}),
    ...(digest ? { digest } : {}),
    ...(fields.mediaType ? { mediaType: fields.mediaType } : {}),
    source: fields.source,
    ...(fields.occurredAt ? { occurredAt: fields.occurredAt } : {}),
    ...(fields.action ? { action: fields.action } : {}),
  });
}

/**
 * Keys for "already seen?" (the events table): `event` is remembered for good — a redelivery of the
 * same notification; `digest` only within a window — the same manifest announced again (a second
 * tag, a second webhook on the same registry) must not start a second scan, but a later push may.
 */
export function dedupeKeys(event: PushEvent): { event: string; digest?: string } {
  const keys: { event: string; digest?: string } = { event: `${event.source}:${event.eventId}` };
  if (event.digest) keys.digest = `${event.registry}/${event.repository}@${event.digest}`;
  return keys;
}
