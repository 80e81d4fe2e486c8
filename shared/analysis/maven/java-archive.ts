import {
  coordinates,
  type MavenCoordinates,
  manifestCoordinates,
  readManifest,
  readProperties,
} from "./java-metadata.js";
import { ChunkedBytes } from "../chunked-bytes.js";
import { readZipDirectory, readZipEntry, type ZipEntry } from "./zip-directory.js";

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
    let manifest: Map<string, string> | undefined;
    let poms = 0;
    const nested: { entry: ZipEntry; name: string }[] = [];
    const wanted = (n: string) => n === MANIFEST || POM_PROPERTIES.test(n) || JAVA_ARCHIVE.test(n);
    for (const entry of zip.entries(wanted)) {
      const path = entry.fileName;
      if (POM_PROPERTIES.test(path) || path === MANIFEST) {
        const text = inflate(bytes, entry, Math.min(MAX_METADATA_BYTES, budget(limits, state)), state);
        if (text === undefined) {
          state.problems.push(`${name}!/${path}: larger than the metadata limit; skipped`);
          continue;
        }
        if (path === MANIFEST) manifest = readManifest(text.toString("utf8"));
        else {
          poms++;
          const p = readProperties(text.toString("utf8"));
          const found = coordinates(p.get("groupId"), p.get("artifactId"), p.get("version"));
          if (found) state.packages.push(found);
        }
      } else if (JAVA_ARCHIVE.test(path)) {
        nested.push({ entry, name: `${name}!/${path}` });
      }
    }
    if (poms === 0 && manifest) {
      const found = manifestCoordinates(manifest, name.slice(name.lastIndexOf("/") + 1));
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

const budget = (limits: ArchiveLimits, state: WalkState) =>
  Math.max(0, limits.maxInflatedBytes - state.inflated);

/** The entry's bytes, or undefined when its declared size is over `max` (the real size is checked too). */
function inflate(bytes: ChunkedBytes, entry: ZipEntry, max: number, state: WalkState): Buffer | undefined {
  if (entry.uncompressedSize > max) return undefined;
  state.inflated += entry.uncompressedSize;
  return readZipEntry(bytes, entry);
}
