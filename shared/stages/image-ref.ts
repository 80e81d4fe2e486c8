/** `registry/repository[:tag][@digest]`, the way openImageSource takes it. */
export function formatImageRef(image: {
  registry: string;
  repository: string;
  tag?: string;
  digest?: string;
}): string {
  let ref = `${image.registry}/${image.repository}`;
  if (image.tag) ref += `:${image.tag}`;
  if (image.digest) ref += `@${image.digest}`;
  return ref;
}
