import { describe, expect, it } from "vitest";
import { decodeTableKey, encodeTableKey, TableKeyError } from "../../shared/ports/table-key.js";

const FORBIDDEN_IN_AZURE = /[/\\#?\u0000-\u001f\u007f-\u009f]/;

describe("table key encoding", () => {
  it.each([
    ["a/b\\c#d?e", "a~2Fb~5Cc~23d~3Fe"],
    ["docker.io/library/nginx", "docker.io~2Flibrary~2Fnginx"],
    ["sha256:ab12", "sha256:ab12"],
    ["100%", "100~25"],
    ["o'brien", "o~27brien"],
    ["~2F", "~7E2F"],
    ["ünï/🐳", "ünï~2F🐳"],
    ["\u0000\u001f\u007f\u009f", "~00~1F~7F~9F"],
  ])("encodes %j as %j and back", (key, encoded) => {
    expect(encodeTableKey(key)).toBe(encoded);
    expect(decodeTableKey(encoded)).toBe(key);
  });

  it("round-trips every BMP character without leaving a forbidden, % or ' character", () => {
    const all = Array.from({ length: 0xd800 }, (_, i) => String.fromCharCode(i)).join("");
    for (let i = 0; i < all.length; i += 200) {
      const chunk = all.slice(i, i + 200);
      const encoded = encodeTableKey(chunk);
      expect(encoded).not.toMatch(FORBIDDEN_IN_AZURE);
      expect(encoded).not.toMatch(/[%']/);
      expect(decodeTableKey(encoded)).toBe(chunk);
    }
  });

  it("keeps prefixes prefixes, so repository prefix queries work on encoded keys", () => {
    const prefix = "docker.io/library/";
    for (const key of ["docker.io/library/nginx", "docker.io/library/a#b", "docker.io/library/"]) {
      expect(encodeTableKey(key).startsWith(encodeTableKey(prefix))).toBe(true);
    }
    expect(encodeTableKey("docker.io/libraryx").startsWith(encodeTableKey(prefix))).toBe(false);
  });

  it("refuses keys over 1 KiB once encoded, and lone surrogates", () => {
    expect(encodeTableKey("k".repeat(512))).toHaveLength(512);
    expect(() => encodeTableKey("k".repeat(513))).toThrow(TableKeyError);
    expect(() => encodeTableKey("/".repeat(171))).toThrow(/too long/);
    expect(() => encodeTableKey("a\ud800b")).toThrow(/surrogate/);
  });
});
