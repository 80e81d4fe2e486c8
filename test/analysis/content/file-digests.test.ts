// The content engine hashes only what a check can use: MD5 where a package may own the file, and the
// image-level checks treat a file without one as unchecked, never as a mismatch or as packaged.
import { createHash, generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { analyzeLayer } from "../../../shared/analysis/analyze-layer.js";
import { contentAnalyzers } from "../../../shared/analysis/content/index.js";
import { fileDigests, mayBePackaged } from "../../../shared/analysis/content/file-digests.js";
import { squashLayers } from "../../../shared/analysis/squash.js";
import { type ContentFact, ContentFactSchema } from "../../../shared/model/content.js";
import { DEFAULT_LIMITS } from "../../../shared/model/limits.js";
import { type Entry, layerBlob, streamOf } from "../layers.js";

const md5 = (s: string | Buffer) => createHash("md5").update(s).digest("hex");

async function analyse(entries: Entry[]) {
  const analyzers = contentAnalyzers(undefined);
  const blob = await layerBlob(entries);
  const report = await analyzeLayer(streamOf(blob.bytes), blob.ref, { analyzers, limits: DEFAULT_LIMITS });
  const fact: ContentFact = ContentFactSchema.parse(squashLayers([report], { analyzers }).facts.content);
  const fileData = (path: string) =>
    (
      report.files.find((f) => f.path === path)?.output.data as { kind: string; md5?: string }[] | undefined
    )?.[0];
  return { fact, fileData };
}

describe("file digests", () => {
  it("names the places no package installs in, and only those", () => {
    for (const p of [
      "usr/local/bin/node",
      "usr/local/lib/python3.12/site-packages/x.py",
      "home/app/.bashrc",
      "root/.ssh/authorized_keys",
      "srv/web/index.js",
      "var/cache/apt/pkgcache.bin",
      "var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages",
      "tmp/x",
    ])
      expect(mayBePackaged(p)).toBe(false);
    for (const p of ["usr/bin/ls", "usr/localized/x", "etc/passwd", "opt/google/chrome/chrome", "var/lib/x"])
      expect(mayBePackaged(p)).toBe(true);
  });

  it("takes MD5 where a package may own the file and SHA-256 + SHA-1 only for a finding's subject", () => {
    const content = Buffer.from("hello\n");
    expect(fileDigests("usr/bin/x", content, false)).toEqual({ md5: md5(content) });
    expect(fileDigests("usr/local/bin/x", content, false)).toEqual({});
    expect(fileDigests("usr/local/bin/x", content, true)).toEqual({
      sha256: createHash("sha256").update(content).digest("hex"),
      sha1: createHash("sha1").update(content).digest("hex"),
    });
  });

  it("says so when a package lists an unhashed file, and still reports a secret there", async () => {
    const key = generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    const tool = "#!/bin/sh\necho tool\n";
    const { fact, fileData } = await analyse([
      { name: "usr/local/bin/tool", content: tool },
      { name: "usr/bin/tool2", content: tool },
      { name: "srv/app/key.pem", content: key },
      // a (third-party) package that lists a file in usr/local, with its right MD5
      {
        name: "var/lib/dpkg/info/thirdparty.md5sums",
        content: `${md5(tool)}  usr/local/bin/tool\n${md5("other")}  usr/bin/tool2\n`,
      },
    ]);
    expect(fileData("usr/local/bin/tool")?.md5).toBeUndefined();
    expect(fileData("usr/bin/tool2")?.md5).toBe(md5(tool));
    // the unhashed file is neither a mismatch nor silently passed; the hashed one is checked
    expect(fact.findings.map((f) => [f.rule, f.path])).toEqual([
      ["integrity/dpkg-md5sums", "/usr/bin/tool2"],
      ["secret/private-key", "/srv/app/key.pem"],
    ]);
    expect(fact.warnings).toEqual([
      expect.objectContaining({
        code: "content-integrity-unhashed",
        message: expect.stringContaining("/usr/local/bin/tool"),
      }),
    ]);
  });
});
