import { createWriteStream, mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { pipeline } from "node:stream/promises";
import yauzl from "yauzl";

/** Every entry name of a zip, read from its central directory. */
export function listZip(path: string): Promise<string[]> {
  return walkZip(path, async () => {});
}

/** Extracts a zip under `dir` (entries that would land outside it are refused). */
export function unzip(path: string, dir: string): Promise<string[]> {
  return walkZip(path, async (zip, entry) => {
    const target = resolve(dir, entry.fileName);
    if (!target.startsWith(resolve(dir) + "/")) throw new Error(`zip entry escapes: ${entry.fileName}`);
    if (entry.fileName.endsWith("/")) return;
    mkdirSync(dirname(target), { recursive: true });
    await pipeline(await zip.openReadStreamPromise(entry), createWriteStream(target));
  }).then((names) => names.map((n) => join(dir, n)));
}

function walkZip(
  path: string,
  onEntry: (zip: yauzl.ZipFile, entry: yauzl.Entry) => Promise<void>,
): Promise<string[]> {
  return new Promise((resolvePromise, reject) => {
    yauzl.open(path, { lazyEntries: true }, (err, zip) => {
      if (err) return reject(err);
      const names: string[] = [];
      zip.on("error", reject);
      zip.on("end", () => resolvePromise(names));
      zip.on("entry", (entry: yauzl.Entry) => {
        names.push(entry.fileName);
        onEntry(zip, entry).then(() => zip.readEntry(), reject);
      });
      zip.readEntry();
    });
  });
}
