import { parseManifestDocument } from "./manifest-document.js";
import { isIndexMediaType } from "./media-types.js";
import type { RegistryClient, RepositoryLocation } from "./registry-client.js";

/**
 * The manifest digests a tag points at now: the tag's own digest and, when it is an index, its
 * platform manifests (one small GET of the index). Empty when the tag is gone. Never a layer pull.
 */
export async function digestsTaggedNow(
  client: RegistryClient,
  location: RepositoryLocation,
  tag: string,
): Promise<string[]> {
  const head = await client.headManifest(location, tag);
  if (!head) return [];
  if (head.digest && !isIndexMediaType(head.mediaType)) return [head.digest];
  // an index (or a registry that sent no digest header): its manifest names the platform images
  const content = await client.getManifest(location, head.digest ?? tag);
  const document = parseManifestDocument(content, `manifest ${location.repository}:${tag}`);
  if (document.kind === "manifest") return [content.digest];
  return [content.digest, ...document.index.manifests.map((m) => m.digest)];
}
