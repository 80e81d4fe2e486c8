import picomatch from "picomatch";
import type { TrackingConfig } from "../policy/tracking-config.js";

/** One tracked stream: an image repository, or one tag stream of it. Its `key` is the ledger's and the marker's. */
export interface ImageStream {
  registry: string;
  repository: string;
  /** the tag stream's name; undefined = the whole repository */
  name?: string;
  /** `registry/repository` or `registry/repository#name` */
  key: string;
}

export function streamKey(registry: string, repository: string, name?: string): string {
  return `${registry}/${repository}${name ? `#${name}` : ""}`;
}

/** The stream a tag belongs to: the first tag stream whose globs match it, else the repository's. */
export function streamOf(
  image: { registry: string; repository: string },
  tag: string | undefined,
  config: Pick<TrackingConfig, "tagStreams">,
): ImageStream {
  const match =
    tag === undefined
      ? undefined
      : config.tagStreams.find((s) => picomatch.isMatch(tag, s.tags, { dot: true }));
  return {
    registry: image.registry,
    repository: image.repository,
    ...(match ? { name: match.name } : {}),
    key: streamKey(image.registry, image.repository, match?.name),
  };
}

/** The stream a key names (a marker read back from an issue), or undefined when it names none. */
export function streamOfKey(key: string): ImageStream | undefined {
  const slash = key.indexOf("/");
  const [repository, name, extra] = key.slice(slash + 1).split("#");
  if (slash <= 0 || !repository || extra !== undefined || name === "") return undefined;
  return { registry: key.slice(0, slash), repository, ...(name ? { name } : {}), key };
}

/** Every stream an image with these tags is part of (one per distinct stream; the repository's when untagged). */
export function streamsOf(
  image: { registry: string; repository: string; tags: readonly string[] },
  config: Pick<TrackingConfig, "tagStreams">,
): ImageStream[] {
  const tags = image.tags.length > 0 ? image.tags : [undefined];
  const byKey = new Map<string, ImageStream>();
  for (const tag of tags) {
    const stream = streamOf(image, tag, config);
    byKey.set(stream.key, stream);
  }
  return [...byKey.values()];
}

const MARKER_PREFIX = "<!-- portcullis:stream ";
const MARKER = /<!-- portcullis:stream (\S{1,600}) -->/;

/** The hidden line in an issue body that says which stream the issue tracks. */
export function streamMarker(key: string): string {
  // `--` would end the HTML comment early; keys never contain whitespace (registry/repository names cannot)
  return `${MARKER_PREFIX}${encodeURIComponent(key)} -->`;
}

/** The stream key an issue body's marker names, or undefined. */
export function markerKeyOf(body: string | null | undefined): string | undefined {
  const found = body ? MARKER.exec(body) : null;
  if (!found) return undefined;
  try {
    return decodeURIComponent(found[1]!);
  } catch {
    return undefined;
  }
}
