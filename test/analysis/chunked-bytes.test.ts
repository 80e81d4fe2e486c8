// A file as the layer walk's chunks, read by offset: every slice and every search gives what the
// joined bytes give, whatever the cuts (empty chunks, one-byte chunks, a match across several).
import { describe, expect, it } from "vitest";
import { ChunkedBytes } from "../../shared/analysis/chunked-bytes.js";
import { seededRandom } from "../support/seeded-random.js";

/** The bytes cut at the given offsets (ascending). */
const cutAt = (bytes: Buffer, offsets: number[]) => {
  const bounds = [0, ...offsets, bytes.length];
  return bounds.slice(1).map((end, i) => bytes.subarray(bounds[i]!, end));
};

describe("ChunkedBytes", () => {
  const bytes = Buffer.from("0123456789abcdefghij");
  const cuts = [[], [0, 3, 3, 4, 11, 20], Array.from({ length: 19 }, (_, i) => i + 1)];

  it.each(cuts.map((c) => [c.length, c] as const))("slices as the joined bytes (%i cuts)", (_n, at) => {
    const chunked = new ChunkedBytes(cutAt(bytes, at));
    expect(chunked.length).toBe(20);
    for (let start = 0; start <= 20; start++)
      for (let end = start; end <= 20; end++)
        expect(chunked.slice(start, end).toString(), `${start}..${end}`).toBe(
          bytes.toString("latin1", start, end),
        );
    expect(() => chunked.slice(5, 21)).toThrow(RangeError);
    expect(() => chunked.slice(-1, 2)).toThrow(RangeError);
  });

  it.each(cuts.map((c) => [c.length, c] as const))(
    "copies any range as the joined bytes (%i cuts)",
    (_n, at) => {
      const chunked = new ChunkedBytes(cutAt(bytes, at));
      for (let start = 0; start <= 20; start++)
        for (let end = start; end <= 20; end++) {
          const into = Buffer.alloc(24, "-");
          expect(chunked.copy(into, 2, start, end)).toBe(end - start);
          expect(into.toString(), `${start}..${end}`).toBe(
            `--${bytes.toString("latin1", start, end)}`.padEnd(24, "-"),
          );
        }
      expect(() => chunked.copy(Buffer.alloc(30), 0, 5, 21)).toThrow(RangeError);
    },
  );

  it("finds what Buffer.indexOf finds in the joined bytes, from every start, across any cuts", () => {
    const random = seededRandom(0x13);
    // a small alphabet: many partial matches, matches across one, two and three cuts
    const text = Buffer.from(Array.from({ length: 400 }, () => "ab"[Math.floor(random() * 2)]!).join(""));
    for (let round = 0; round < 30; round++) {
      const at = [
        ...new Set(Array.from({ length: 1 + (round % 60) }, () => Math.floor(random() * 401))),
      ].sort((x, y) => x - y);
      const chunked = new ChunkedBytes(cutAt(text, at));
      for (const needle of [
        "abba",
        "bbbab",
        "a",
        "abababab",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
      ]) {
        const n = Buffer.from(needle);
        for (let from = 0; from <= 400; from += 7)
          expect(chunked.indexOf(n, from), `${needle} from ${from}, cuts ${at}`).toBe(text.indexOf(n, from));
      }
    }
  });
});
