/** Media types of manifests, indexes and configs this scanner understands. */
export const MediaType = {
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  ociIndex: "application/vnd.oci.image.index.v1+json",
  ociConfig: "application/vnd.oci.image.config.v1+json",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerManifestList: "application/vnd.docker.distribution.manifest.list.v2+json",
  dockerConfig: "application/vnd.docker.container.image.v1+json",
  inToto: "application/vnd.in-toto+json",
} as const;

/** Sent on every manifest GET so a registry can answer with any of the four shapes. */
export const MANIFEST_ACCEPT = [
  MediaType.ociManifest,
  MediaType.ociIndex,
  MediaType.dockerManifest,
  MediaType.dockerManifestList,
].join(", ");

export const isIndexMediaType = (mediaType: string | undefined): boolean =>
  mediaType === MediaType.ociIndex || mediaType === MediaType.dockerManifestList;

export const isImageManifestMediaType = (mediaType: string | undefined): boolean =>
  mediaType === MediaType.ociManifest || mediaType === MediaType.dockerManifest;

export const isImageConfigMediaType = (mediaType: string | undefined): boolean =>
  mediaType === MediaType.ociConfig || mediaType === MediaType.dockerConfig;

/** Foreign (Docker) and non-distributable (OCI) layers: their blobs live at the descriptor's `urls`. */
export const isForeignLayerMediaType = (mediaType: string | undefined): boolean =>
  mediaType !== undefined && /\.foreign\.|nondistributable/.test(mediaType);
