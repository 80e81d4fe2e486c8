import { z } from "zod";

// The OCI distribution spec's grammar (distribution-spec, "Pulling manifests"; distribution/reference).
/** One path component: lower-case alphanumerics joined by `.`, `_`, `__` or runs of `-`. */
const PATH_COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const REPOSITORY = new RegExp(`^${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);
const PATH_COMPONENT_ONLY = new RegExp(`^${PATH_COMPONENT}$`);
/** the spec's limit on a whole name; registries refuse longer ones */
const MAX_REPOSITORY = 255;
const TAG = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
/** a DNS name or IPv4 address, or a bracketed IPv6 address, with an optional port */
const REGISTRY_HOST =
  /^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*|\[[0-9a-f:.]+\])(?::[0-9]{1,5})?$/;

/** One repository path component (`library`, `my-app`), as the grammar allows it. */
export const isPathComponent = (component: string): boolean => PATH_COMPONENT_ONLY.test(component);
export const isTag = (tag: string): boolean => TAG.test(tag);
/** `host[:port]`, in any case (hosts are case-insensitive; the schema below wants them lower-cased). */
export const isRegistryHost = (host: string): boolean => REGISTRY_HOST.test(host.toLowerCase());

export const RepositoryNameSchema = z
  .string()
  .max(MAX_REPOSITORY, `a repository name has at most ${MAX_REPOSITORY} characters`)
  .regex(REPOSITORY, "not a repository name (lower-case path components: a-z 0-9 . _ __ -)");

export const TagSchema = z.string().regex(TAG, "not a tag ([A-Za-z0-9_][A-Za-z0-9._-]{0,127})");

/** `host[:port]`, already lower-cased */
export const RegistryHostSchema = z
  .string()
  .regex(REGISTRY_HOST, "not a registry host[:port]")
  .refine((h) => {
    const port = /:([0-9]+)$/.exec(h)?.[1];
    return port === undefined || Number(port) <= 65535;
  }, "port out of range");
