/**
 * The SAM hive's binary records, read to the letter of their published layouts (chntpw's sam.h,
 * cross-checked with Impacket's secretsdump): the account domain's `F` (SAM\Domains\Account) and each
 * user's `F` and `V` (SAM\Domains\Account\Users\<RID>). Every read is bounds-checked; a record too
 * short for the fields read is a SamRecordError, never a read past its end.
 */
export class SamRecordError extends Error {}

/** The account policy from the domain `F` record. */
export interface DomainPolicy {
  minPasswordLength: number;
  passwordHistory: number;
  lockoutThreshold: number;
  /** whole days; null when passwords never expire */
  maxPasswordAgeDays: number | null;
}

// domain F: 0x18 max password age (int64, negative 100 ns units), 0x50 min length, 0x52 history, 0x54 lockout threshold
const DOMAIN_F = { maxAge: 0x18, minLength: 0x50, history: 0x52, lockout: 0x54, end: 0x56 } as const;
const TICKS_PER_DAY = 10_000_000n * 86_400n;
const NEVER = -0x8000000000000000n;

export function parseDomainF(f: Buffer): DomainPolicy {
  if (f.length < DOMAIN_F.end)
    throw new SamRecordError(
      `domain F record is ${f.length} bytes, shorter than the ${DOMAIN_F.end} its policy fields need`,
    );
  const age = f.readBigInt64LE(DOMAIN_F.maxAge);
  return {
    minPasswordLength: f.readUInt16LE(DOMAIN_F.minLength),
    passwordHistory: f.readUInt16LE(DOMAIN_F.history),
    lockoutThreshold: f.readUInt16LE(DOMAIN_F.lockout),
    maxPasswordAgeDays: age === 0n || age === NEVER ? null : Number((age < 0n ? -age : age) / TICKS_PER_DAY),
  };
}

/** Account-control bits of a user's `F` record (ACB_*). */
export const ACB_DISABLED = 0x0001;
export const ACB_PWNOTREQ = 0x0004;

// user F: 0x30 RID (uint32), 0x38 ACB bits (uint16); 0x50 bytes in all
const USER_F = { rid: 0x30, acb: 0x38, end: 0x3a } as const;

export function parseUserF(f: Buffer): { rid: number; acb: number } {
  if (f.length < USER_F.end)
    throw new SamRecordError(`user F record is ${f.length} bytes, shorter than ${USER_F.end}`);
  return { rid: f.readUInt32LE(USER_F.rid), acb: f.readUInt16LE(USER_F.acb) };
}

// user V: a table of (offset, length, unused) triples, offsets relative to the end of the 0xCC-byte table
const USER_V = { table: 0xcc, nameOffset: 0x0c, nameLength: 0x10, ntOffset: 0xa8, ntLength: 0xac } as const;
/** An NT hash entry: PekID, Revision (1: RC4, 16-byte hash after a 4-byte header; 2: AES, data after a 0x18-byte header). */
const HASH_AFTER = { 1: 0x04, 2: 0x18 } as const;

export function parseUserV(v: Buffer): { name: string; blankPassword: boolean } {
  if (v.length < USER_V.table)
    throw new SamRecordError(
      `user V record is ${v.length} bytes, shorter than its ${USER_V.table}-byte table`,
    );
  const field = (offsetAt: number, lengthAt: number): Buffer => {
    const start = USER_V.table + v.readUInt32LE(offsetAt);
    const length = v.readUInt32LE(lengthAt);
    if (start + length > v.length)
      throw new SamRecordError(`user V field at 0x${offsetAt.toString(16)} points past the record`);
    return v.subarray(start, start + length);
  };
  const name = field(USER_V.nameOffset, USER_V.nameLength);
  const nt = field(USER_V.ntOffset, USER_V.ntLength);
  return { name: name.subarray(0, name.length & ~1).toString("utf16le"), blankPassword: !hasHash(nt) };
}

/** Whether an NT hash entry carries a hash: an entry with only its header (or nothing) is a blank password. */
function hasHash(entry: Buffer): boolean {
  if (entry.length < 4) return false;
  const revision = entry.readUInt16LE(2);
  const header = revision === 2 ? HASH_AFTER[2] : HASH_AFTER[1];
  return entry.length >= header + 16;
}
