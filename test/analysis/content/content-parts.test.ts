// The content engine's two halves, run alone for the overhead bench: each does its own work and none
// of the other's, and a half is never mistaken for the whole engine in the layer cache.
import { createHash, generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { analyzeLayer } from "../../../shared/analysis/analyze-layer.js";
import { createContentAnalyzer, YaraEngine } from "../../../shared/analysis/content/index.js";
import { ANALYZERS, analyzerSetVersion } from "../../../shared/analysis/registry.js";
import { DEFAULT_LIMITS } from "../../../shared/model/limits.js";
import { layerBlob, streamOf } from "../layers.js";

const others = ANALYZERS.filter((a) => a.name !== "content" && a.name !== "clamav");
const yara = new YaraEngine();
const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");
const md5 = (s: string) => createHash("md5").update(s).digest("hex");
const key = generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }).toString();
const tool = "#!/bin/sh\necho tool\n";

async function fileData(parts: { rules: boolean; integrity: boolean }) {
  const analyzer = createContentAnalyzer({ yara, parts });
  const blob = await layerBlob([
    { name: "usr/bin/tool", content: tool },
    { name: "etc/app/key.pem", content: key },
    { name: "var/lib/dpkg/info/tool.md5sums", content: `${md5(tool)}  usr/bin/tool\n` },
  ]);
  const report = await analyzeLayer(streamOf(blob.bytes), blob.ref, {
    analyzers: [analyzer],
    limits: DEFAULT_LIMITS,
  });
  const of = (path: string) =>
    (report.files.find((f) => f.path === path)!.output.data as Record<string, unknown>[])[0]!;
  const kinds = (
    report.files.find((f) => f.path === "var/lib/dpkg/info/tool.md5sums")!.output.data as {
      kind: string;
    }[]
  ).map((d) => d.kind);
  return { tool: of("usr/bin/tool"), key: of("etc/app/key.pem"), md5sumsKinds: kinds };
}

describe("the content engine's halves", () => {
  it("keys each half apart from the whole engine and from each other", () => {
    const set = (rules: boolean, integrity: boolean) =>
      analyzerSetVersion([...others, createContentAnalyzer({ yara, parts: { rules, integrity } })]);
    const whole = analyzerSetVersion([...others, createContentAnalyzer({ yara })]);
    expect(set(true, true)).toBe(whole);
    expect(new Set([whole, set(true, false), set(false, true)]).size).toBe(3);
  });

  it("integrity alone takes the digests and runs no rule", async () => {
    const { tool: t, key: k, md5sumsKinds } = await fileData({ rules: false, integrity: true });
    expect(t).toMatchObject({ md5: md5(tool), sha1: expect.any(String), sha256: sha256(tool) });
    // the package database's records, which the digests are checked against
    expect(md5sumsKinds).toEqual(["file", "md5sums"]);
    expect(k.secrets).toBeUndefined();
    expect(k.md5).toEqual(expect.any(String));
  });

  it("rules alone find the secret, with the SHA-256 of its file as evidence, and take no package digest", async () => {
    const { tool: t, key: k, md5sumsKinds } = await fileData({ rules: true, integrity: false });
    expect(t).toEqual({ kind: "file" });
    // no package database is read: its records serve the integrity cross-check alone
    expect(md5sumsKinds).toEqual(["file"]);
    expect(k).toMatchObject({ sha256: sha256(key), secrets: [expect.objectContaining({ line: 1 })] });
    expect(k.md5).toBeUndefined();
    expect(k.sha1).toBeUndefined();
  });
});
