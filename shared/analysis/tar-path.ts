/**
 * Tar names are names, not places: these functions turn a header's name into a clean relative
 * path inside the layer (or reject it) without ever touching a filesystem.
 */

/** "./usr//lib/./x/" → "usr/lib/x"; "/etc/passwd" → "etc/passwd"; undefined when it climbs above the root. */
export function normalizeTarPath(name: string): string | undefined {
  const out: string[] = [];
  for (const segment of name.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") {
      if (out.length === 0) return undefined;
      out.pop();
      continue;
    }
    out.push(segment);
  }
  return out.join("/");
}

/**
 * Where a link points, as a path inside the layer root, or undefined when a relative target climbs
 * above the root. Absolute targets are read as the image sees them (the root is `/`).
 */
export function resolveLinkTarget(
  linkPath: string,
  target: string,
  type: "symlink" | "hardlink",
): string | undefined {
  // hardlink names are archive paths; symlink targets are relative to the link's directory
  if (type === "hardlink" || target.startsWith("/")) return normalizeStrict(target);
  const dir = linkPath.includes("/") ? linkPath.slice(0, linkPath.lastIndexOf("/")) : "";
  return normalizeStrict(dir ? `${dir}/${target}` : target);
}

/** Like normalizeTarPath, but `/..` is an escape too (a hostile archive's `/../secret`). */
function normalizeStrict(name: string): string | undefined {
  return normalizeTarPath(name.replace(/^\/+/, ""));
}

export type Whiteout = { kind: "delete"; path: string } | { kind: "opaque"; dir: string } | { kind: "meta" };

const WH = ".wh.";

/** OCI/AUFS whiteouts: `.wh.<name>` deletes `<name>`, `.wh..wh..opq` hides the directory's earlier content. */
export function parseWhiteout(path: string): Whiteout | undefined {
  const slash = path.lastIndexOf("/");
  const base = path.slice(slash + 1);
  if (!base.startsWith(WH)) return undefined;
  const dir = slash < 0 ? "" : path.slice(0, slash);
  if (base === ".wh..wh..opq") return { kind: "opaque", dir };
  // other `.wh..wh.*` entries are AUFS bookkeeping (hardlink dirs), not deletions
  if (base.startsWith(`${WH}${WH}`)) return { kind: "meta" };
  const name = base.slice(WH.length);
  if (name === "" || name === "." || name === "..") return { kind: "meta" };
  return { kind: "delete", path: dir ? `${dir}/${name}` : name };
}
