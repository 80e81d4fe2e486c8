import { createReadStream } from "node:fs";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { extract } from "tar-stream";

/** Lists the entry names of a gzip layer blob: how tests look for whiteouts without extracting. */
export async function listLayerEntries(blobPath: string): Promise<string[]> {
  const names: string[] = [];
  const tar = extract();
  tar.on("entry", (header, stream, next) => {
    names.push(header.name);
    stream.on("end", next);
    stream.resume();
  });
  await pipeline(createReadStream(blobPath), createGunzip(), tar);
  return names;
}
