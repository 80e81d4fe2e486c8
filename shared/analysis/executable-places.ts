/**
 * Binaries are not named by type: the places images put executables (the OS's own bin directories
 * included) and Windows .exe files. The analyzers that read binaries (Go build info, cargo auditable)
 * select by this one pattern.
 */
export const EXECUTABLE_PLACES = /(?:^|\/)(?:s?bin|libexec|ko-app|app)\/[^/.]+$|\.exe$/i;

const PLACES = new Set(["bin", "sbin", "libexec", "ko-app", "app"]);

/**
 * `EXECUTABLE_PLACES.test(path)` without the regex: asked of every path of every layer, twice, where
 * the pattern's unanchored start made it try each position of the path.
 */
export function isExecutablePlace(path: string): boolean {
  const n = path.length;
  if (n >= 4 && path.charCodeAt(n - 4) === 0x2e && path.slice(n - 3).toLowerCase() === "exe") return true;
  const slash = path.lastIndexOf("/");
  // a file name without a dot, directly in one of the places
  if (slash < 1 || slash === n - 1 || path.indexOf(".", slash + 1) !== -1) return false;
  const from = path.lastIndexOf("/", slash - 1) + 1;
  const length = slash - from;
  if (length !== 3 && length !== 4 && length !== 6 && length !== 7) return false;
  return PLACES.has(path.slice(from, slash).toLowerCase());
}
