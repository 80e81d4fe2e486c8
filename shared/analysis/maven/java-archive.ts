import {
  coordinates,
  type MavenCoordinates,
  manifestCoordinates,
  readManifest,
  readProperties,
} from "./java-metadata.js";
import { ChunkedBytes } from "../chunked-bytes.js";
import { type NameFilter, readZipDirectory, readZipEntry, type ZipEntry } from "./zip-directory.js";

/** How far a hostile archive may make us go. */
export interface ArchiveLimits {
  /** archives inside archives: 1 reads the outer one's direct children */
  maxDepth: number;
  /** inflated bytes across the whole outer file, nested archives and metadata together */
  maxInflatedBytes: number;
  /** entries listed by any one archive's central directory */
  maxEntries: number;
}

export const DEFAULT_ARCHIVE_LIMITS: ArchiveLimits = {
  maxDepth: 3,
  maxInflatedBytes: 256 * 1024 * 1024,
  maxEntries: 200_000,
};

const POM_PROPERTIES = /^META-INF\/maven\/[^/]+\/[^/]+\/pom\.properties$/;
const MANIFEST = "META-INF/MANIFEST.MF";
export const JAVA_ARCHIVE = /\.(?:jar|war|ear|jpi|hpi)$/i;
const MAX_METADATA_BYTES = 1024 * 1024;
const META_INF = Buffer.from("META-INF/", "latin1");

/** What every wanted name has, read from its bytes: a `META-INF/` start, or a `.jar`/`.war`/`.ear`/`.jpi`/`.hpi` end (any case). */
const mayBeWanted: NameFilter = (dir, start, end) => {
  if (end - start >= 4 && dir[end - 4] === 0x2e) {
    const [a, b, c] = [dir[end - 3]! | 0x20, dir[end - 2]! | 0x20, dir[end - 1]! | 0x20];
    // j/w/e + "ar", j/h + "pi"
    if (b === 0x61 && c === 0x72 && (a === 0x6a || a === 0x77 || a === 0x65)) return true;
    if (b === 0x70 && c === 0x69 && (a === 0x6a || a === 0x68)) return true;
  }
  if (end - start < META_INF.length) return false;
  for (let i = 0; i < META_INF.length; i++) if (dir[start + i] !== META_INF[i]) return false;
  return true;
};

export interface ArchiveRead {
  packages: MavenCoordinates[];
  problems: string[];
}

/**
 * Every Maven artifact a Java archive carries: its pom.properties (all of them: shaded jars), else its
 * manifest. The archive may be whole or the chunks the layer walk read it in.
 */
export async function readJavaArchive(
  content: Buffer | ChunkedBytes,
  name: string,
  limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS,
): Promise<ArchiveRead> {
  const state = { inflated: 0, problems: [] as string[], packages: [] as MavenCoordinates[] };
  await readArchive(content, name, 0, limits, state);
  const seen = new Set<string>();
  const packages = state.packages.filter((p) => {
    const key = `${p.groupId}:${p.artifactId}@${p.version}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return { packages, problems: state.problems };
}

interface WalkState {
  inflated: number;
  problems: string[];
  packages: MavenCoordinates[];
}

async function readArchive(
  content: Buffer | ChunkedBytes,
  name: string,
  depth: number,
  limits: ArchiveLimits,
  state: WalkState,
) {
  const bytes = ChunkedBytes.of(content);
  let zip: ReturnType<typeof readZipDirectory>;
  try {
    zip = readZipDirectory(bytes);
  } catch (err) {
    state.problems.push(`${name}: not a readable zip archive (${(err as Error).message})`);
    return;
  }
  try {
    if (zip.count > limits.maxEntries) {
      state.problems.push(`${name}: ${zip.count} entries, more than ${limits.maxEntries}; not read`);
      return;
    }
    let manifest: ZipEntry | undefined;
    let poms = 0;
    const nested: { entry: ZipEntry; name: string }[] = [];
    const wanted = (n: string) => n === MANIFEST || POM_PROPERTIES.test(n) || JAVA_ARCHIVE.test(n);
    for (const entry of zip.entries(wanted, mayBeWanted)) {
      const path = entry.fileName;
      if (path === MANIFEST) manifest = entry;
      else if (POM_PROPERTIES.test(path)) {
        const text = readMetadata(bytes, entry, name, limits, state);
        if (text === undefined) continue;
        poms++;
        const p = readProperties(text);
        const found = coordinates(p.get("groupId"), p.get("artifactId"), p.get("version"));
        if (found) state.packages.push(found);
      } else if (JAVA_ARCHIVE.test(path)) {
        nested.push({ entry, name: `${name}!/${path}` });
      }
    }
    // the manifest is the fallback: inflated only when no pom.properties names the artifact
    const text = poms === 0 && manifest ? readMetadata(bytes, manifest, name, limits, state) : undefined;
    if (text !== undefined) {
      const found = manifestCoordinates(readManifest(text), name.slice(name.lastIndexOf("/") + 1));
      if (found) state.packages.push(found);
    }
    for (const inner of nested) {
      if (depth + 1 >= limits.maxDepth) {
        state.problems.push(`${inner.name}: nested deeper than ${limits.maxDepth} archives; not read`);
        continue;
      }
      const inflated = inflate(bytes, inner.entry, budget(limits, state), state);
      if (inflated === undefined) {
        state.problems.push(
          `${inner.name}: would inflate past ${limits.maxInflatedBytes} bytes for this file; not read`,
        );
        continue;
      }
      await readArchive(inflated, inner.name, depth + 1, limits, state);
    }
  } catch (err) {
    state.problems.push(`${name}: ${(err as Error).message}`);
  }
}

/** A pom.properties or manifest as text, or undefined (with a problem said) past the metadata limit. */
function readMetadata(
  bytes: ChunkedBytes,
  entry: ZipEntry,
  name: string,
  limits: ArchiveLimits,
  state: WalkState,
): string | undefined {
  const text = inflate(bytes, entry, Math.min(MAX_METADATA_BYTES, budget(limits, state)), state);
  if (text === undefined)
    state.problems.push(`${name}!/${entry.fileName}: larger than the metadata limit; skipped`);
  return text?.toString("utf8");
}

const budget = (limits: ArchiveLimits, state: WalkState) =>
  Math.max(0, limits.maxInflatedBytes - state.inflated);

/** The entry's bytes, or undefined when its declared size is over `max` (the real size is checked too). */
function inflate(bytes: ChunkedBytes, entry: ZipEntry, max: number, state: WalkState): Buffer | undefined {
  if (entry.uncompressedSize > max) return undefined;
  state.inflated += entry.uncompressedSize;
  return readZipEntry(bytes, entry);
}
