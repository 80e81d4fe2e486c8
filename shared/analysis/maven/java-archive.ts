import { inflateRawSync } from "node:zlib";
import yauzl from "yauzl";
import {
  coordinates,
  type MavenCoordinates,
  manifestCoordinates,
  readManifest,
  readProperties,
} from "./java-metadata.js";

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

/** Every Maven artifact a Java archive carries: its pom.properties (all of them: shaded jars), else its manifest. */
export async function readJavaArchive(
  content: Buffer,
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
  content: Buffer,
  name: string,
  depth: number,
  limits: ArchiveLimits,
  state: WalkState,
) {
  let zip: yauzl.ZipFile;
  try {
    zip = await open(content);
  } catch (err) {
    state.problems.push(`${name}: not a readable zip archive (${(err as Error).message})`);
    return;
  }
  try {
    if (zip.entryCount > limits.maxEntries) {
      state.problems.push(`${name}: ${zip.entryCount} entries, more than ${limits.maxEntries}; not read`);
      return;
    }
    let manifest: Map<string, string> | undefined;
    let poms = 0;
    const nested: { entry: yauzl.Entry; name: string }[] = [];
    const wanted = (n: string) => n === MANIFEST || POM_PROPERTIES.test(n) || JAVA_ARCHIVE.test(n);
    for (const entry of await listEntries(zip, wanted)) {
      const path = entry.fileName;
      if (POM_PROPERTIES.test(path) || path === MANIFEST) {
        const text = inflate(entry, Math.min(MAX_METADATA_BYTES, budget(limits, state)), state, content);
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
      const bytes = inflate(inner.entry, budget(limits, state), state, content);
      if (bytes === undefined) {
        state.problems.push(
          `${inner.name}: would inflate past ${limits.maxInflatedBytes} bytes for this file; not read`,
        );
        continue;
      }
      await readArchive(bytes, inner.name, depth + 1, limits, state);
    }
  } catch (err) {
    state.problems.push(`${name}: ${(err as Error).message}`);
  } finally {
    zip.close();
  }
}

const budget = (limits: ArchiveLimits, state: WalkState) =>
  Math.max(0, limits.maxInflatedBytes - state.inflated);

function open(content: Buffer): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(
      content,
      { lazyEntries: true, autoClose: false, validateEntrySizes: true, strictFileNames: false },
      (err, zip) => (err ? reject(err) : resolve(zip)),
    );
  });
}

/** The entries `wanted` selects, listed in one pass over the central directory (no per-entry await). */
function listEntries(zip: yauzl.ZipFile, wanted: (name: string) => boolean): Promise<yauzl.Entry[]> {
  return new Promise((resolve, reject) => {
    const found: yauzl.Entry[] = [];
    zip.on("entry", (e: yauzl.Entry) => {
      if (wanted(e.fileName)) found.push(e);
      zip.readEntry();
    });
    zip.on("end", () => resolve(found));
    zip.on("error", reject);
    zip.readEntry();
  });
}

/**
 * The entry's bytes, or undefined when its declared size is over `max`. Read straight from the
 * archive in memory and inflated synchronously: a zlib stream per entry cost about a millisecond
 * each (most of a jar's reading time); the output is capped at the declared size, checked after.
 */
function inflate(entry: yauzl.Entry, max: number, state: WalkState, content: Buffer): Buffer | undefined {
  if (entry.uncompressedSize > max) return undefined;
  state.inflated += entry.uncompressedSize;
  if (entry.isEncrypted()) throw new Error(`${entry.fileName}: encrypted entry`);
  const at = entry.relativeOffsetOfLocalHeader;
  if (at + 30 > content.length || content.readUInt32LE(at) !== 0x04034b50)
    throw new Error(`${entry.fileName}: no local file header at ${at}`);
  const start = at + 30 + content.readUInt16LE(at + 26) + content.readUInt16LE(at + 28);
  const end = start + entry.compressedSize;
  if (end > content.length) throw new Error(`${entry.fileName}: data runs past the end of the archive`);
  const raw = content.subarray(start, end);
  let bytes: Buffer;
  if (entry.compressionMethod === 0) bytes = raw;
  else if (entry.compressionMethod === 8) {
    try {
      // one byte over the declared size is enough to tell a lie from the truth
      bytes = inflateRawSync(raw, { maxOutputLength: entry.uncompressedSize + 1 });
    } catch (err) {
      throw new Error(`${entry.fileName}: ${(err as Error).message}`);
    }
  } else throw new Error(`${entry.fileName}: unsupported compression method ${entry.compressionMethod}`);
  if (bytes.length !== entry.uncompressedSize)
    throw new Error(
      `${entry.fileName}: inflates to ${bytes.length > entry.uncompressedSize ? "more" : "less"} than the ${entry.uncompressedSize} bytes its header declares`,
    );
  return bytes;
}
