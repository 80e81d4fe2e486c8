import { MAX_RPM_PACKAGES, type RpmDbBlobs, RpmDbError } from "./rpm-db.js";

// rpm's own "ndb" package store (lib/backend/ndb/rpmpkg.c), little-endian: a 32-byte header, slot
// pages of 16-byte slots (magic, package index, block offset, block count), blobs in 16-byte blocks.
const HEADER_MAGIC = 0x506d7052; // "RpmP"
const SLOT_MAGIC = 0x746f6c53; // "Slot"
const BLOB_MAGIC = 0x53626c42; // "BlbS"
const PAGE = 4096;
const BLOCK = 16;
const HEADER_SLOTS = 2;

/** Reads every header blob of an rpm `Packages.db` (ndb). */
export function readNdb(file: Buffer): RpmDbBlobs {
  if (file.length < PAGE) throw new RpmDbError(`${file.length} bytes is too short for an ndb file`);
  if (file.readUInt32LE(0) !== HEADER_MAGIC) throw new RpmDbError("not an rpm ndb file");
  if (file.readUInt32LE(4) !== 0) throw new RpmDbError(`unknown ndb version ${file.readUInt32LE(4)}`);
  const slotPages = file.readUInt32LE(12);
  if (slotPages === 0 || slotPages * PAGE > file.length) {
    throw new RpmDbError(`ndb claims ${slotPages} slot pages; the file has ${file.length} bytes`);
  }
  const problems: string[] = [];
  const blobs: Buffer[] = [];
  const slots = (slotPages * PAGE) / BLOCK;
  for (let s = HEADER_SLOTS; s < slots; s++) {
    const at = s * BLOCK;
    if (file.readUInt32LE(at) !== SLOT_MAGIC) {
      problems.push(`slot ${s} has no slot magic; the slot table is damaged`);
      break;
    }
    const pkgIndex = file.readUInt32LE(at + 4);
    if (pkgIndex === 0) continue; // a free slot
    const offset = file.readUInt32LE(at + 8) * BLOCK;
    const span = file.readUInt32LE(at + 12) * BLOCK;
    if (offset + span > file.length || span < BLOCK) {
      problems.push(`package ${pkgIndex}: blob at ${offset} (+${span}) lies outside the file`);
      continue;
    }
    if (file.readUInt32LE(offset) !== BLOB_MAGIC || file.readUInt32LE(offset + 4) !== pkgIndex) {
      problems.push(`package ${pkgIndex}: blob at ${offset} has no matching blob header`);
      continue;
    }
    const length = file.readUInt32LE(offset + 12);
    if (BLOCK + length > span) {
      problems.push(`package ${pkgIndex}: blob length ${length} exceeds its ${span}-byte span`);
      continue;
    }
    blobs.push(file.subarray(offset + BLOCK, offset + BLOCK + length));
    if (blobs.length >= MAX_RPM_PACKAGES) {
      problems.push(`more than ${MAX_RPM_PACKAGES} packages; the rest were not read`);
      break;
    }
  }
  return { blobs, problems };
}
