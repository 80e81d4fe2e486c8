import { MAX_RPM_PACKAGES, type RpmDbBlobs, RpmDbError } from "./rpm-db.js";

// Berkeley DB's on-disk hash format (db_page.h): a metadata page, then hash pages whose items come
// in key/value pairs; rpm's header values never fit a page, so each is an off-page overflow chain.
const HASH_MAGIC = 0x061561;
const PAGE_HEADER = 26;
const P_HASH_UNSORTED = 2;
const P_OVERFLOW = 7;
const P_HASH = 13;
const H_OFFPAGE = 3;

/** Reads every header blob of an rpm `Packages` file (Berkeley DB hash, either byte order). */
export function readBerkeleyDb(file: Buffer): RpmDbBlobs {
  if (file.length < 512) throw new RpmDbError(`${file.length} bytes is too short for a Berkeley DB file`);
  const le = file.readUInt32LE(12) === HASH_MAGIC;
  if (!le && file.readUInt32BE(12) !== HASH_MAGIC) throw new RpmDbError("not a Berkeley DB hash file");
  const u32 = (b: Buffer, at: number) => (le ? b.readUInt32LE(at) : b.readUInt32BE(at));
  const u16 = (b: Buffer, at: number) => (le ? b.readUInt16LE(at) : b.readUInt16BE(at));
  const pageSize = u32(file, 20);
  if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) {
    throw new RpmDbError(`page size ${pageSize} is not a Berkeley DB page size`);
  }
  const declared = u32(file, 32) + 1;
  const pages = Math.min(declared, Math.floor(file.length / pageSize));
  const problems: string[] = [];
  if (pages < declared) problems.push(`file is truncated: ${declared} pages declared, ${pages} present`);
  const page = (n: number) => file.subarray(n * pageSize, (n + 1) * pageSize);

  const overflow = (first: number, total: number): Buffer | string => {
    if (total > file.length) return `record claims ${total} bytes, more than the file`;
    const out = Buffer.allocUnsafe(total);
    let filled = 0;
    let next = first;
    // a chain longer than the file has pages is a loop
    for (let hops = 0; next !== 0 && filled < total; hops++) {
      if (hops >= pages || next >= pages) return `overflow chain breaks at page ${next}`;
      const p = page(next);
      if (p[25] !== P_OVERFLOW) return `page ${next} is not an overflow page`;
      const len = u16(p, 22);
      if (PAGE_HEADER + len > pageSize || filled + len > total) return `overflow page ${next} is damaged`;
      filled += p.copy(out, filled, PAGE_HEADER, PAGE_HEADER + len);
      next = u32(p, 16);
    }
    return filled === total ? out : `record ends after ${filled} of ${total} bytes`;
  };

  const blobs: Buffer[] = [];
  for (let n = 1; n < pages; n++) {
    const p = page(n);
    if (p[25] !== P_HASH && p[25] !== P_HASH_UNSORTED) continue;
    const entries = Math.min(u16(p, 20), Math.floor((pageSize - PAGE_HEADER) / 2));
    for (let i = 1; i < entries; i += 2) {
      const at = u16(p, PAGE_HEADER + i * 2);
      // rpm's one small inline value is the record-number counter under key 0: not a package
      if (at < pageSize && p[at] !== H_OFFPAGE) continue;
      if (at + 12 > pageSize) {
        problems.push(`page ${n} item ${i} points outside the page`);
        continue;
      }
      const blob = overflow(u32(p, at + 4), u32(p, at + 8));
      if (typeof blob === "string") problems.push(`page ${n} item ${i}: ${blob}`);
      else blobs.push(blob);
      if (blobs.length >= MAX_RPM_PACKAGES) {
        problems.push(`more than ${MAX_RPM_PACKAGES} records; the rest were not read`);
        return { blobs, problems };
      }
    }
  }
  return { blobs, problems };
}
