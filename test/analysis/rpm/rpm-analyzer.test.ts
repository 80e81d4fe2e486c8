import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { analyzeLayer } from "../../../shared/analysis/analyze-layer.js";
import { osAnalyzer } from "../../../shared/analysis/os/os-analyzer.js";
import { osFromOsRelease } from "../../../shared/analysis/os/os-release.js";
import {
  identifyRpmPackage,
  parseRpmDatabase,
  rpmAnalyzer,
} from "../../../shared/analysis/rpm/rpm-analyzer.js";
import { squashLayers } from "../../../shared/analysis/squash.js";
import { DEFAULT_LIMITS } from "../../../shared/model/limits.js";
import { corpusPath } from "../../support/corpus.js";
import { layerBlob, streamOf } from "../layers.js";
import { buildRpmDb } from "./rpm-build.js";

/** rpm -qa's TSV (NAME EPOCHNUM VERSION RELEASE ARCH SOURCERPM VENDOR) as the records rpm's own reading implies. */
function fromRpmQa(tsv: string) {
  return tsv
    .split("\n")
    .filter((l) => l && !l.startsWith("#"))
    .map((line) => {
      const [name, epoch, version, release, arch, sourceRpm] = line.split("\t") as string[];
      const evr = (v: string, r: string) => `${epoch === "0" ? "" : `${epoch}:`}${v}-${r}`;
      const src = /^(.+)-([^-]+)-([^-]+)\.src\.rpm$/.exec(sourceRpm!);
      return {
        name: name!,
        version: evr(version!, release!),
        arch: arch!,
        source: src
          ? { name: src[1]!, version: evr(src[2]!, src[3]!) }
          : { name: name!, version: evr(version!, release!) },
      };
    })
    .sort(byName);
}
const byName = (a: { name: string; arch?: string }, b: { name: string; arch?: string }) =>
  a.name < b.name ? -1 : a.name > b.name ? 1 : (a.arch ?? "") < (b.arch ?? "") ? -1 : 1;
const records = (out: Awaited<ReturnType<typeof parseRpmDatabase>>) =>
  out.packages.map(({ name, version, arch, source }) => ({ name, version, arch, source })).sort(byName);

const CORPUS = [
  [
    "SQLite (CBL-Mariner 2.0)",
    "go-rpmdb/cbl-mariner-2.0/rpmdb.sqlite",
    "go-rpmdb/cbl-mariner-2.0/expected.rpm-qa.tsv",
  ],
  ["Berkeley DB (RHEL 8 libuuid)", "go-rpmdb/libuuid/Packages", "go-rpmdb/libuuid/expected.rpm-qa.tsv"],
  ["NDB (SLE 15 BCI)", "go-rpmdb/sle15-bci/Packages.db", "go-rpmdb/sle15-bci/expected.rpm-qa.tsv"],
  [
    "Berkeley DB with an epoch (scalibr)",
    "scalibr/Packages_epoch",
    "scalibr/Packages_epoch.expected.rpm-qa.tsv",
  ],
  ["Berkeley DB (syft)", "syft/Packages", "syft/expected.rpm-qa.tsv"],
] as const;

const corpus = (p: string) => readFileSync(corpusPath("pkgdb/rpm", p));

describe("rpm database", () => {
  for (const [what, db, expected] of CORPUS) {
    it(`lists what rpm -qa lists for ${what}`, async () => {
      const out = await parseRpmDatabase(corpus(db), "var/lib/rpm/x");
      expect(out.warnings).toEqual([]);
      expect(records(out)).toEqual(fromRpmQa(corpus(expected).toString()));
    });
  }

  it("lists what rpm -qa lists for an rpmdb.sqlite that Debian's rpm wrote (epochs, sub-packages, arches)", async () => {
    const { db, expected } = buildRpmDb([
      {
        name: "demo",
        version: "1.2.3",
        release: "4.el9",
        epoch: 2,
        arch: "noarch",
        subpackages: ["libdemo"],
      },
      { name: "tool", version: "0.9~rc1", release: "1.fc40", arch: "x86_64" },
      { name: "zero", version: "7", release: "0", epoch: 0, arch: "noarch" },
    ]);
    const out = await parseRpmDatabase(db, "var/lib/rpm/rpmdb.sqlite");
    expect(out.warnings).toEqual([]);
    expect(records(out)).toEqual(fromRpmQa(expected));
    expect(records(out).find((p) => p.name === "libdemo")?.source).toEqual({
      name: "demo",
      version: "2:1.2.3-4.el9",
    });
  });

  it("reads a distroless CBL-Mariner image's rpm manifest (rpm -qa output) into the same records", async () => {
    const path = "var/lib/rpmmanifest/container-manifest-2";
    const content = corpus("syft/container-manifest-2");
    expect(rpmAnalyzer.required(path)).toBe(true);
    const out = await rpmAnalyzer.analyze({ path, content });
    expect(out.warnings).toEqual([]);
    // the manifest's columns are rpm -qa's: NAME, VERSION-RELEASE, …, EPOCH, SIZE, ARCH, EPOCHNUM, SOURCERPM
    const tsv = content
      .toString()
      .trim()
      .split("\n")
      .map((l) => {
        const f = l.split("\t");
        const [v, r] = [f[1]!.slice(0, f[1]!.lastIndexOf("-")), f[1]!.slice(f[1]!.lastIndexOf("-") + 1)];
        return [f[0], f[8], v, r, f[7], f[9], f[4]].join("\t");
      })
      .join("\n");
    const got = (out.packages ?? []).map(({ name, version, arch, source }) => ({
      name,
      version,
      arch,
      source,
    }));
    expect(got.sort(byName)).toEqual(fromRpmQa(tsv));
    expect(got.find((p) => p.name === "vim")?.version).toMatch(/^2:/);
  });

  it("says when changes sit in an uncheckpointed write-ahead log", async () => {
    const path = "var/lib/rpm/rpmdb.sqlite-wal";
    expect(await rpmAnalyzer.analyze({ path, content: Buffer.alloc(0) })).toEqual({});
    const out = await rpmAnalyzer.analyze({ path, content: Buffer.alloc(4128, 1) });
    expect(out.warnings?.[0]?.message).toMatch(/4128 bytes of uncheckpointed/);
  });

  it("reads the database in every place rpm keeps it, and nothing else", () => {
    for (const p of [
      "var/lib/rpm/Packages",
      "var/lib/rpm/rpmdb.sqlite",
      "usr/lib/sysimage/rpm/Packages.db",
    ]) {
      expect(rpmAnalyzer.required(p)).toBe(true);
    }
    for (const p of [
      "var/lib/rpm/Name",
      "var/lib/rpm/x/Packages",
      "etc/Packages",
      "var/lib/rpm/rpmdb.sqlite-shm",
    ]) {
      expect(rpmAnalyzer.required(p)).toBe(false);
    }
  });
});

describe("rpm database, hostile", () => {
  const real = CORPUS.map(([, db]) => corpus(db));

  it("turns every truncation of a real database into warnings, never a crash", async () => {
    for (const file of real) {
      const full = (await parseRpmDatabase(file, "p")).packages.length;
      for (const cut of [0, 7, 100, 4096, 5000, Math.floor(file.length / 3), file.length - 1]) {
        const out = await parseRpmDatabase(file.subarray(0, cut), "p");
        expect(out.packages.length).toBeLessThanOrEqual(full);
        if (out.packages.length < full) expect(out.warnings.length).toBeGreaterThan(0);
      }
    }
  });

  it("answers garbage and corrupt bytes with a warning naming the file", async () => {
    const noise = Buffer.alloc(64 * 1024);
    for (let i = 0; i < noise.length; i++) noise[i] = (i * 7919 + (i >> 3)) & 0xff;
    for (const content of [noise, Buffer.from("SQLite format 3\u0000 but not really"), Buffer.from("RpmP")]) {
      const out = await parseRpmDatabase(content, "var/lib/rpm/Packages");
      expect(out.packages).toEqual([]);
      expect(out.warnings[0]?.path).toBe("var/lib/rpm/Packages");
    }
    for (const file of real) {
      // scribble over the middle: whatever survives is read, the rest is warned about
      const damaged = Buffer.from(file);
      damaged.fill(0xff, Math.floor(file.length / 2), Math.floor(file.length / 2) + 2048);
      const out = await parseRpmDatabase(damaged, "p");
      for (const p of out.packages) expect(p.name).not.toBe("");
    }
  });

  it("bounds huge declared counts: pages, slots, overflow lengths and header indexes", async () => {
    const bdb = Buffer.from(real[1]!);
    bdb.writeUInt32LE(0xfffffff0, 32); // last page number
    const outBdb = await parseRpmDatabase(bdb, "p");
    expect(outBdb.warnings.some((w) => /truncated/.test(w.message))).toBe(true);

    const ndb = Buffer.from(real[2]!);
    ndb.writeUInt32LE(0x7fffffff, 12); // slot pages
    expect((await parseRpmDatabase(ndb, "p")).warnings[0]?.message).toMatch(/slot pages/);

    // every header blob's index count set to 0xffffffff inside the NDB store
    const sle = Buffer.from(real[2]!);
    let hits = 0;
    for (let at = sle.indexOf("BlbS"); at >= 0; at = sle.indexOf("BlbS", at + 4)) {
      sle.writeUInt32BE(0xffffffff, at + 16);
      hits++;
    }
    const outHeaders = await parseRpmDatabase(sle, "p");
    expect(hits).toBeGreaterThan(30);
    expect(outHeaders.packages).toEqual([]);
    expect(outHeaders.warnings.length).toBe(hits);
  });
});

describe("rpm ecosystems", () => {
  const ecosystem = (osRelease: string) =>
    identifyRpmPackage(
      { kind: "rpm", name: "bash", version: "1:5.1-2.el9", arch: "x86_64" },
      osFromOsRelease(osRelease),
    );

  it("names the OSV ecosystem from os-release, as the OSV schema defines each", () => {
    expect(ecosystem('ID="rocky"\nVERSION_ID="9.3"').ecosystem).toBe("Rocky Linux:9");
    expect(ecosystem('ID="almalinux"\nVERSION_ID="8.10"').ecosystem).toBe("AlmaLinux:8");
    expect(
      ecosystem('ID="opensuse-leap"\nVERSION_ID="15.5"\nPRETTY_NAME="openSUSE Leap 15.5"').ecosystem,
    ).toBe("openSUSE:Leap 15.5");
    expect(
      ecosystem('ID="sles"\nVERSION_ID="15.3"\nPRETTY_NAME="SUSE Linux Enterprise Server 15 SP3"').ecosystem,
    ).toBe("SUSE:Linux Enterprise Server 15 SP3");
    expect(ecosystem('ID=mariner\nVERSION_ID="2.0"').ecosystem).toBe("Azure Linux:2");
    expect(ecosystem('ID=azurelinux\nVERSION_ID="3.0"').ecosystem).toBe("Azure Linux:3");
    expect(ecosystem('ID="rhel"\nVERSION_ID="9.4"').ecosystem).toBe("Red Hat:enterprise_linux:9::baseos");
    // not published by OSV: a name of its own, never another distribution's advisories
    expect(ecosystem('ID="amzn"\nVERSION_ID="2023"').ecosystem).toBe("Amazon Linux:2023");
    expect(ecosystem("ID=fedora\nVERSION_ID=40").ecosystem).toBe("Fedora:40");
  });

  it("gives the package URL with the epoch as a qualifier", () => {
    expect(ecosystem('ID="rocky"\nVERSION_ID="9.3"').purl).toBe(
      "pkg:rpm/rocky/bash@5.1-2.el9?arch=x86_64&distro=rocky-9.3&epoch=1",
    );
  });

  it("inventories a layer with a real SUSE database: packages by source RPM, in the SUSE ecosystem", async () => {
    const blob = await layerBlob([
      {
        name: "usr/lib/os-release",
        content:
          'NAME="SLES"\nVERSION_ID="15.3"\nID="sles"\nPRETTY_NAME="SUSE Linux Enterprise Server 15 SP3"\n',
      },
      { name: "usr/lib/sysimage/rpm/Packages.db", content: corpus(CORPUS[2][1]) },
    ]);
    const analyzers = [osAnalyzer, rpmAnalyzer];
    const report = await analyzeLayer(streamOf(blob.bytes), blob.ref, { analyzers, limits: DEFAULT_LIMITS });
    const { packages, warnings } = squashLayers([report], { analyzers });
    expect(warnings).toEqual([]);
    const fileMagic = packages.find((p) => p.name === "file-magic");
    expect(fileMagic).toMatchObject({
      ecosystem: "SUSE:Linux Enterprise Server 15 SP3",
      source: { name: "file", version: "5.32-7.14.1" },
      layer: blob.ref.digest,
      paths: ["usr/lib/sysimage/rpm/Packages.db"],
    });
    expect(packages.length).toBe(
      fromRpmQa(corpus("go-rpmdb/sle15-bci/expected.rpm-qa.tsv").toString()).length,
    );
  });
});
