import { z } from "zod";
import { type HeaderBag, headerValue } from "./headers.js";
import { type PushEvent, parseEventBody, pushEvent } from "./push-event.js";

/**
 * GitHub Container Registry pushes, as GitHub `registry_package` (and its successor `package`)
 * webhook events. The body must have passed `verifyGitHubSignature` on its raw bytes first.
 */
const PACKAGE_EVENTS = new Set(["registry_package", "package"]);
const PUSH_ACTIONS = new Set(["published", "updated"]);
const CONTAINER_TYPES = new Set(["container", "docker"]);

const PackageSchema = z.looseObject({
  name: z.string().min(1),
  package_type: z.string().optional(),
  ecosystem: z.string().optional(),
  updated_at: z.string().optional(),
  owner: z.looseObject({ login: z.string().min(1) }),
  package_version: z.looseObject({
    id: z.union([z.number(), z.string()]).optional(),
    version: z.string().optional(),
    name: z.string().optional(),
    container_metadata: z
      .looseObject({
        tag: z.looseObject({ name: z.string().optional(), digest: z.string().optional() }).optional(),
        manifest: z
          .looseObject({ digest: z.string().optional(), media_type: z.string().optional() })
          .optional(),
      })
      .nullish(),
  }),
});

const BodySchema = z.looseObject({
  action: z.string(),
  registry_package: PackageSchema.optional(),
  package: PackageSchema.optional(),
});

export function parseGhcrEvent(body: unknown, headers: HeaderBag): PushEvent[] {
  const name = headerValue(headers, "x-github-event") ?? inferEventName(body);
  if (!name || !PACKAGE_EVENTS.has(name)) return []; // issues, ping …: other handlers' business
  const event = parseEventBody("ghcr", BodySchema, body);
  if (!PUSH_ACTIONS.has(event.action)) return [];
  const pkg = name === "package" ? event.package : event.registry_package;
  if (!pkg) return [];
  // Example payloads disagree on which field says "container" (package_type vs ecosystem): accept either.
  const kinds = [pkg.package_type, pkg.ecosystem].map((k) => k?.toLowerCase());
  if (!kinds.some((k) => k !== undefined && CONTAINER_TYPES.has(k))) return [];
  const version = pkg.package_version;
  const metadata = version.container_metadata ?? undefined;
  const delivery = headerValue(headers, "x-github-delivery");
  return [
    pushEvent({
      source: "ghcr",
      eventId: delivery ?? `${name}:${version.id ?? version.version ?? ""}:${event.action}`,
      registry: "ghcr.io",
      // GHCR names are lower case whatever the owner's login looks like.
      repository: `${pkg.owner.login}/${pkg.name}`.toLowerCase(),
      tag: metadata?.tag?.name,
      // For containers the version *is* the manifest digest; the metadata copies are not always valid.
      digestCandidates: [version.version, version.name, metadata?.manifest?.digest, metadata?.tag?.digest],
      mediaType: metadata?.manifest?.media_type,
      occurredAt: pkg.updated_at,
    }),
  ];
}

function inferEventName(body: unknown): string | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  if ("registry_package" in body) return "registry_package";
  if ("package" in body) return "package";
  return undefined;
}
