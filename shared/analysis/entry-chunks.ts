import type tar from "tar-stream";

/** tar-stream's entry: a streamx Readable */
type EntryStream = tar.ExtractEvents["entry"][1];

/**
 * Reads one tar entry as the chunks it arrives in, never joined: for readers that need only parts of
 * a large file (a jar's directory and a few entries), which a whole-file copy would cost more than
 * the reading itself. The chunks are views of the decompressor's output, which the gunzip writes
 * into again once the readers have settled: they keep nothing of them.
 */
export function readEntryChunks(entry: EntryStream): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    entry.on("data", (chunk) => chunks.push(chunk as Buffer));
    entry.on("end", () => resolve(chunks));
    entry.on("error", reject);
  });
}
