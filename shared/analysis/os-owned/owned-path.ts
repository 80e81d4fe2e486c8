// usrmerge: dpkg and rpm may list /bin/x while the image holds usr/bin/x behind a /bin symlink
const MERGED = /^(?:bin|sbin|lib|lib32|lib64|libx32)\//;

/** A path as a package manager lists it (`/usr/lib/…`, `./usr/lib/…`) in the one form layers and lists are compared in. */
export function ownedPath(listed: string): string {
  const bare = listed.replace(/^\.?\/+/, "");
  return MERGED.test(bare) ? `usr/${bare}` : bare;
}
