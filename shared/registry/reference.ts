import { isDigest } from "../model/digest.js";
import { isPathComponent, isRegistryHost, isTag } from "../model/oci-name.js";
import { ScanError } from "../model/errors.js";
import {
  canonicalRegistry,
  DOCKER_HUB,
  DOCKER_HUB_API_HOST,
  formatImageRef,
} from "../model/image-reference.js";

/** A reference to an image in an OCI distribution registry, normalised the way Docker does. */
export interface RegistryReference {
  transport: "registry";
  /** registry as users name it: "docker.io", "ghcr.io", "127.0.0.1:5000" */
  registry: string;
  /** host[:port] the API is called on ("registry-1.docker.io" for Docker Hub) */
  apiHost: string;
  /** "library/alpine", "org/team/app" */
  repository: string;
  tag?: string;
  digest?: string;
}

/** A reference to an image on disk: an OCI layout directory, a tar of one, or `docker save` output. */
export interface ArchiveReference {
  transport: "oci" | "oci-archive" | "docker-archive";
  path: string;
  /** oci/oci-archive: the `org.opencontainers.image.ref.name`; docker-archive: a RepoTags entry */
  tag?: string;
}

export type ImageReference = RegistryReference | ArchiveReference;

const MAX_REFERENCE_LENGTH = 4096;

export class InvalidReferenceError extends ScanError {
  constructor(ref: string, reason: string) {
    super("invalid-reference", `invalid image reference "${ref}": ${reason}`, { permanent: true });
    this.name = "InvalidReferenceError";
  }
}

/** Parses what a user types: `alpine`, `ghcr.io/o/r:tag@sha256:…`, `oci:dir:tag`, `docker-archive:file.tar`. */
export function parseImageReference(input: string): ImageReference {
  if (input.length === 0) throw new InvalidReferenceError(input, "empty");
  if (input.length > MAX_REFERENCE_LENGTH)
    throw new InvalidReferenceError(input.slice(0, 64) + "…", "too long");
  if (/[\s\0]/.test(input)) throw new InvalidReferenceError(input, "contains whitespace");
  for (const transport of ["oci-archive", "oci", "docker-archive"] as const) {
    if (input.startsWith(`${transport}:`)) return parseArchiveReference(input, transport);
  }
  if (input.startsWith("docker://")) return parseRegistryReference(input.slice("docker://".length), input);
  return parseRegistryReference(input, input);
}

function parseArchiveReference(input: string, transport: ArchiveReference["transport"]): ArchiveReference {
  const rest = input.slice(transport.length + 1);
  if (rest.length === 0) throw new InvalidReferenceError(input, `${transport}: needs a path`);
  // The optional name follows the last colon, unless that colon is part of the path itself.
  const colon = rest.lastIndexOf(":");
  let filePath = rest;
  let tag: string | undefined;
  if (colon > 0) {
    const tail = rest.slice(colon + 1);
    if (transport === "docker-archive") {
      // docker-archive:<file>:<name:tag> — the name itself may contain a colon
      const first = rest.indexOf(":");
      filePath = rest.slice(0, first);
      tag = rest.slice(first + 1);
    } else if (!tail.includes("/")) {
      filePath = rest.slice(0, colon);
      tag = tail;
    }
  }
  if (filePath.length === 0) throw new InvalidReferenceError(input, `${transport}: needs a path`);
  if (tag !== undefined && tag.length === 0) throw new InvalidReferenceError(input, "empty tag after ':'");
  return tag === undefined ? { transport, path: filePath } : { transport, path: filePath, tag };
}

function parseRegistryReference(text: string, original: string): RegistryReference {
  let name = text;
  let digest: string | undefined;
  const at = name.indexOf("@");
  if (at >= 0) {
    digest = name.slice(at + 1);
    name = name.slice(0, at);
    if (!isDigest(digest)) {
      throw new InvalidReferenceError(original, `"${digest}" is not a sha256 or sha512 digest`);
    }
  }
  let tag: string | undefined;
  const lastSlash = name.lastIndexOf("/");
  const tagColon = name.indexOf(":", lastSlash + 1);
  if (tagColon >= 0) {
    tag = name.slice(tagColon + 1);
    name = name.slice(0, tagColon);
    if (!isTag(tag)) throw new InvalidReferenceError(original, `"${tag}" is not a valid tag`);
  }
  if (name.length === 0) throw new InvalidReferenceError(original, "missing repository name");

  const slash = name.indexOf("/");
  const first = slash >= 0 ? name.slice(0, slash) : "";
  const hasRegistry = slash >= 0 && (first.includes(".") || first.includes(":") || first === "localhost");
  let registry = hasRegistry ? first : DOCKER_HUB;
  let repository = hasRegistry ? name.slice(slash + 1) : name;
  if (hasRegistry && !isRegistryHost(registry)) {
    throw new InvalidReferenceError(original, `"${registry}" is not a registry host`);
  }
  if (canonicalRegistry(registry) === DOCKER_HUB) registry = DOCKER_HUB;
  if (registry === DOCKER_HUB && !repository.includes("/")) repository = `library/${repository}`;
  for (const component of repository.split("/")) {
    if (!isPathComponent(component)) {
      const why = /[A-Z]/.test(component) ? "repository names must be lowercase" : "not a repository name";
      throw new InvalidReferenceError(original, `"${repository}": ${why}`);
    }
  }
  if (tag === undefined && digest === undefined) tag = "latest";
  const ref: RegistryReference = {
    transport: "registry",
    registry,
    apiHost: registry === DOCKER_HUB ? DOCKER_HUB_API_HOST : registry,
    repository,
  };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  return ref;
}

/** The canonical text of a reference: `docker.io/library/alpine:latest`, `oci:dir:tag`. */
export function formatImageReference(ref: ImageReference): string {
  if (ref.transport !== "registry") return `${ref.transport}:${ref.path}${ref.tag ? `:${ref.tag}` : ""}`;
  return formatImageRef(ref);
}
