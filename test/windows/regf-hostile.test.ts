import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { type Hive, openHive, RegfError, RegType } from "../../shared/analysis/windows/regf/index.js";
import { type KeySpec, writeHive } from "./support/regf-writer.js";
import { corpusPath } from "../support/corpus.js";

const fixture = (name: string) => readFileSync(corpusPath("hives", name));
/** file offset of a field inside the payload of the cell at a hive offset */
const field = (hiveOffset: number, at: number) => 4096 + hiveOffset + 4 + at;

const dword = (name: string, n: number) => ({ name, type: RegType.DWORD, data: Buffer.from([n, 0, 0, 0]) });
const TREE: KeySpec = {
  name: "ROOT",
  subkeys: [
    { name: "A", subkeys: [{ name: "A1", subkeys: [{ name: "A1a" }] }, { name: "A2" }] },
    {
      name: "B",
      values: [dword("d", 1), { name: "s", type: RegType.SZ, data: Buffer.from("hello\0", "utf16le") }],
    },
    { name: "I", indexed: true, subkeys: [{ name: "x" }, { name: "y" }, { name: "z" }] },
  ],
};

/** Touch everything a consumer could: every key, value, data byte and decoding. */
function readAll(hive: Hive): number {
  let n = 0;
  for (const key of hive.walk()) {
    void key.className;
    for (const v of key.values()) {
      n += v.data.length;
      v.asString();
      v.asStrings();
      if (v.type === RegType.DWORD) v.asNumber();
    }
  }
  return n;
}

function regfErrorOf(fn: () => unknown): RegfError {
  try {
    fn();
  } catch (err) {
    if (err instanceof RegfError) return err;
    throw err;
  }
  throw new Error("expected a RegfError");
}

describe("regf reader on hostile hives", () => {
  it("reads the well-formed tree the hostile cases start from, including its ri index", () => {
    const hive = openHive(writeHive(TREE).buf);
    expect([...hive.walk()].map((k) => k.path.join("\\"))).toEqual([
      "",
      "A",
      "A\\A1",
      "A\\A1\\A1a",
      "A\\A2",
      "B",
      "I",
      "I\\x",
      "I\\y",
      "I\\z",
    ]);
    expect(readAll(hive)).toBe(16);
  });

  it.each([0, 3, 100, 4095, 4096 + 100, 8191])("rejects a hive truncated to %i bytes", (length) => {
    const err = regfErrorOf(() => openHive(fixture("hivex/special").subarray(0, length)));
    expect(err.code).toMatch(/^(truncated|not-regf)$/);
  });

  it("rejects a truncated large hive with the offset where the data ran out", () => {
    const err = regfErrorOf(() => openHive(fixture("hivex/large").subarray(0, 200_000)));
    expect(err.code).toBe("truncated");
    expect(err.offset).toBe(200_000);
    expect(err.message).toMatch(/truncated at 0x30d40: header declares \d+ bytes of hive bins/);
  });

  it("rejects bad signatures: base block, hbin, nk", () => {
    const { buf, keyOffsets } = writeHive(TREE);
    const badRegf = Buffer.from(buf);
    badRegf.write("regx", 0, "latin1");
    expect(regfErrorOf(() => openHive(badRegf)).code).toBe("not-regf");
    const badBin = Buffer.from(buf);
    badBin.write("hbix", 4096, "latin1");
    expect(regfErrorOf(() => openHive(badBin))).toMatchObject({ code: "bad-hbin", offset: 4096 });
    const badNk = Buffer.from(buf);
    badNk.write("xx", field(keyOffsets.get("A")!, 0), "latin1");
    expect(regfErrorOf(() => readAll(openHive(badNk))).code).toBe("bad-record");
  });

  it("rejects offsets that do not name an allocated cell", () => {
    const { buf, keyOffsets } = writeHive(TREE);
    for (const bad of [0x7ffffff0, 0xfffffff0, keyOffsets.get("A")! + 8, 3]) {
      const patched = Buffer.from(buf);
      patched.writeUInt32LE(bad, 36);
      expect(regfErrorOf(() => openHive(patched).root()).code).toBe("bad-offset");
    }
  });

  it("rejects a cell whose size runs past its hbin", () => {
    const { buf, keyOffsets } = writeHive(TREE);
    buf.writeInt32LE(-0x100000, 4096 + keyOffsets.get("B")!);
    expect(regfErrorOf(() => openHive(buf)).code).toBe("bad-cell");
  });

  it("detects a subkey list pointing back at an ancestor (cycle) instead of looping", () => {
    const { buf, keyOffsets, listOffsets } = writeHive(TREE);
    // A1's only child entry now names A, its own parent
    buf.writeUInt32LE(keyOffsets.get("A")!, field(listOffsets.get("A\\A1")!, 4));
    const err = regfErrorOf(() => readAll(openHive(buf)));
    expect(err.code).toBe("cycle");
    expect(err.message).toContain('an ancestor of "A\\A1"');
  });

  it("detects a key listing itself and the root listed as a child", () => {
    const self = writeHive(TREE);
    self.buf.writeUInt32LE(self.keyOffsets.get("A\\A1")!, field(self.listOffsets.get("A\\A1")!, 4));
    expect(regfErrorOf(() => readAll(openHive(self.buf))).code).toBe("cycle");
    const root = writeHive(TREE);
    root.buf.writeUInt32LE(root.keyOffsets.get("")!, field(root.listOffsets.get("A")!, 4));
    expect(regfErrorOf(() => readAll(openHive(root.buf))).code).toBe("cycle");
  });

  it("rejects a key listed under two parents and a key listed twice", () => {
    const shared = writeHive(TREE);
    shared.buf.writeUInt32LE(shared.keyOffsets.get("A\\A1")!, field(shared.listOffsets.get("")!, 4 + 8));
    expect(regfErrorOf(() => readAll(openHive(shared.buf))).code).toBe("shared-key");
    const twice = writeHive(TREE);
    const list = twice.listOffsets.get("A")!;
    twice.buf.writeUInt32LE(twice.keyOffsets.get("A\\A1")!, field(list, 4 + 8));
    expect(regfErrorOf(() => readAll(openHive(twice.buf))).code).toBe("shared-key");
  });

  it("rejects an ri index naming the same sub-list twice (no 65535² expansion)", () => {
    const { buf, listOffsets } = writeHive(TREE);
    const ri = listOffsets.get("I")!;
    buf.writeUInt32LE(buf.readUInt32LE(field(ri, 4)), field(ri, 8));
    expect(regfErrorOf(() => readAll(openHive(buf))).code).toBe("bad-subkey-list");
  });

  it("rejects huge and inconsistent value lengths without allocating them", () => {
    const build = () => writeHive(TREE);
    const huge = build();
    huge.buf.writeUInt32LE(0x7ffffff0, field(huge.valueOffsets.get("B:s")!, 4));
    expect(regfErrorOf(() => readAll(openHive(huge.buf)))).toMatchObject({ code: "value-too-large" });
    const long = build();
    long.buf.writeUInt32LE(20_000, field(long.valueOffsets.get("B:s")!, 4));
    expect(regfErrorOf(() => readAll(openHive(long.buf))).code).toBe("bad-value-data");
    const inline = build();
    inline.buf.writeUInt32LE(0x80000009, field(inline.valueOffsets.get("B:d")!, 4));
    expect(regfErrorOf(() => readAll(openHive(inline.buf))).code).toBe("bad-value-data");
    const count = build();
    count.buf.writeUInt32LE(0xffffff, field(count.keyOffsets.get("B")!, 36));
    expect(regfErrorOf(() => readAll(openHive(count.buf))).code).toBe("bad-record");
  });

  it("keeps the siblings of a bad value readable", () => {
    const { buf, valueOffsets } = writeHive(TREE);
    buf.writeUInt32LE(0x7ffffff0, field(valueOffsets.get("B:s")!, 4));
    const b = openHive(buf).subkey(["B"])!;
    expect(b.value("d")?.asNumber()).toBe(1);
    expect(() => b.value("s")?.data).toThrow(RegfError);
  });

  it("stops at the depth and key-count limits", () => {
    let deep: KeySpec = { name: "leaf" };
    for (let i = 0; i < 20; i++) deep = { name: `k${i}`, subkeys: [deep] };
    expect(regfErrorOf(() => readAll(openHive(writeHive(deep).buf, { maxDepth: 10 }))).code).toBe("too-deep");
    expect(regfErrorOf(() => readAll(openHive(fixture("hivex/large"), { maxKeys: 100 }))).code).toBe(
      "too-many-keys",
    );
  });

  it("survives random corruption with only RegfErrors, never a hang or a foreign exception", () => {
    let seed = 0x5eed;
    const random = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 2 ** 32;
    };
    const sources = [fixture("scancode/Software_Delta"), fixture("hivex/special"), writeHive(TREE).buf];
    const outcomes = { ok: 0, regf: 0 };
    for (let i = 0; i < 1500; i++) {
      const buf = Buffer.from(sources[i % sources.length]!);
      const flips = 1 + Math.floor(random() * 8);
      for (let f = 0; f < flips; f++)
        buf[4096 + Math.floor(random() * (buf.length - 4096))] = Math.floor(random() * 256);
      try {
        readAll(openHive(buf));
        outcomes.ok++;
      } catch (err) {
        if (!(err instanceof RegfError)) throw err;
        outcomes.regf++;
      }
    }
    expect(outcomes.ok + outcomes.regf).toBe(1500);
    expect(outcomes.regf).toBeGreaterThan(0);
  });
});
