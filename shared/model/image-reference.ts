/** Docker Hub as users and the report name it. */
export const DOCKER_HUB = "docker.io";
/** The host Docker Hub's registry API answers on. */
export const DOCKER_HUB_API_HOST = "registry-1.docker.io";
/** Other names that all mean Docker Hub (docker login writes `index.docker.io`). */
const DOCKER_HUB_ALIASES: ReadonlySet<string> = new Set([
  DOCKER_HUB,
  "index.docker.io",
  DOCKER_HUB_API_HOST,
  "registry.hub.docker.com",
]);

/** Registry hosts are case-insensitive and Docker Hub has several names: one spelling per registry. */
export function canonicalRegistry(registry: string): string {
  const host = registry.toLowerCase();
  return DOCKER_HUB_ALIASES.has(host) ? DOCKER_HUB : host;
}

/**
 * The one text form of an image: `registry/repository[:tag][@digest]`. A local image (`oci:`,
 * `oci-archive:`) has no registry and is named by its repository (its path) alone.
 */
export function formatImageRef(image: {
  registry?: string | undefined;
  repository: string;
  tag?: string | undefined;
  digest?: string | undefined;
}): string {
  let ref = image.registry ? `${image.registry}/${image.repository}` : image.repository;
  if (image.tag) ref += `:${image.tag}`;
  if (image.digest) ref += `@${image.digest}`;
  return ref;
}
