/** Java `.properties` (pom.properties): `key=value`, `key: value` or `key value`; `#`/`!` comments. */
export function readProperties(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith("!")) continue;
    const m = /^([^=:\s]+)\s*[=:\s]\s*(.*)$/.exec(line);
    if (m && !out.has(m[1]!)) out.set(m[1]!, m[2]!.trim());
  }
  return out;
}

/** The main section of a JAR manifest: `Name: value` lines, continued by lines starting with one space. */
export function readManifest(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let last: string | undefined;
  for (const line of text.split(/\r?\n/)) {
    if (line === "") break;
    if (line.startsWith(" ") && last !== undefined) {
      out.set(last, out.get(last)! + line.slice(1));
      continue;
    }
    const colon = line.indexOf(": ");
    if (colon <= 0) continue;
    last = line.slice(0, colon);
    if (!out.has(last)) out.set(last, line.slice(colon + 2));
  }
  return out;
}

export interface MavenCoordinates {
  groupId: string;
  artifactId: string;
  version: string;
}

const PART = /^[A-Za-z0-9_.-]+$/;
const VERSION = /^[A-Za-z0-9_.+-]+$/;

export function coordinates(
  groupId?: string,
  artifactId?: string,
  version?: string,
): MavenCoordinates | undefined {
  if (!groupId || !artifactId || !version) return undefined;
  if (!PART.test(groupId) || !PART.test(artifactId) || !VERSION.test(version)) return undefined;
  if (groupId.length + artifactId.length + version.length > 600) return undefined;
  return { groupId, artifactId, version };
}

/**
 * A manifest's coordinates, when it names a group: Implementation-Vendor-Id or the OSGi symbolic
 * name's prefix; the artifact from the symbolic name's rest or the file name; the version from
 * Implementation-Version or Bundle-Version.
 */
export function manifestCoordinates(
  manifest: Map<string, string>,
  fileName: string,
): MavenCoordinates | undefined {
  const version = manifest.get("Implementation-Version") ?? manifest.get("Bundle-Version");
  const symbolic = manifest.get("Bundle-SymbolicName")?.split(";")[0]?.trim();
  const fromFile = fileName.replace(/\.[a-z]+$/i, "").replace(/-\d[\w.+-]*$/, "");
  let groupId = manifest.get("Implementation-Vendor-Id");
  let artifactId: string | undefined;
  if (symbolic && groupId && symbolic.startsWith(`${groupId}.`))
    artifactId = symbolic.slice(groupId.length + 1);
  else if (symbolic && !groupId && symbolic.endsWith(`.${fromFile}`)) {
    groupId = symbolic.slice(0, -fromFile.length - 1);
    artifactId = fromFile;
  }
  return coordinates(groupId, artifactId ?? (fromFile || undefined), version);
}
