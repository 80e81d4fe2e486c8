import { execFileSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const here = path.dirname(fileURLToPath(import.meta.url));
const tsx = path.resolve(here, "../../node_modules/.bin/tsx");

describe("the dpkg parser on a 64 MiB database", () => {
  it("reads every package while staying within a few times the file's size", () => {
    const out = execFileSync(tsx, [path.join(here, "support/parse-dpkg.ts"), "64"], {
      encoding: "utf8",
      env: { ...process.env, NODE_OPTIONS: "--expose-gc" },
    });
    const result = JSON.parse(out.trim().split("\n").at(-1) ?? "{}") as {
      bytes: number;
      packages: number;
      peakAboveBase: number;
    };
    expect(result.bytes).toBeGreaterThanOrEqual(64 * 1024 ** 2);
    expect(result.packages).toBeGreaterThan(50_000);
    // the file itself is already in memory; parsing may add less than its size again (it held a
    // string per line and every field of every stanza at once: 2.8 times its size on this file)
    expect(result.peakAboveBase).toBeLessThan(result.bytes);
  });
});
