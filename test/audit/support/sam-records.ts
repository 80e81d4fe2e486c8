// SAM records built to the published layout (chntpw's sam.h), for the audit tests.

/** A domain `F` record (0xF0 bytes): max password age in days (0 = never), min length, history, lockout. */
export function domainF(p: {
  maxAgeDays: number;
  minLength: number;
  history: number;
  lockout: number;
}): Buffer {
  const f = Buffer.alloc(0xf0);
  f.writeUInt32LE(2, 0x00);
  const ticks = BigInt(p.maxAgeDays) * 86_400n * 10_000_000n;
  f.writeBigInt64LE(p.maxAgeDays === 0 ? -0x8000000000000000n : -ticks, 0x18);
  f.writeUInt16LE(p.minLength, 0x50);
  f.writeUInt16LE(p.history, 0x52);
  f.writeUInt16LE(p.lockout, 0x54);
  return f;
}

/** A user `F` record (0x50 bytes): RID at 0x30, ACB bits at 0x38. */
export function userF(rid: number, acb: number): Buffer {
  const f = Buffer.alloc(0x50);
  f.writeUInt32LE(rid, 0x30);
  f.writeUInt16LE(acb, 0x38);
  return f;
}

/** A user `V` record: the 0xCC-byte table, the name, an LM and an NT hash entry of the given kind. */
export function userV(name: string, nt: "none" | "rc4" | "aes"): Buffer {
  const table = Buffer.alloc(0xcc);
  const nameBytes = Buffer.from(name, "utf16le");
  const ntEntry =
    nt === "none"
      ? Buffer.from([0, 0, 1, 0])
      : nt === "rc4"
        ? Buffer.concat([Buffer.from([0, 0, 1, 0]), Buffer.alloc(16, 0xab)])
        : Buffer.concat([
            Buffer.from([0, 0, 2, 0, 0x10, 0, 0, 0]),
            Buffer.alloc(16, 1),
            Buffer.alloc(32, 0xcd),
          ]);
  const lmEntry = Buffer.from([0, 0, 1, 0]);
  const pad = (b: Buffer) => Buffer.concat([b, Buffer.alloc((4 - (b.length % 4)) % 4)]);
  const parts = [pad(nameBytes), pad(lmEntry), pad(ntEntry)];
  let offset = 0;
  const place = (ofsAt: number, lenAt: number, part: Buffer, length: number) => {
    table.writeUInt32LE(offset, ofsAt);
    table.writeUInt32LE(length, lenAt);
    offset += part.length;
  };
  place(0x0c, 0x10, parts[0]!, nameBytes.length);
  place(0x9c, 0xa0, parts[1]!, lmEntry.length);
  place(0xa8, 0xac, parts[2]!, ntEntry.length);
  return Buffer.concat([table, ...parts]);
}
