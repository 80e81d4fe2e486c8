import { readFile } from "node:fs/promises";
import type { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { identifyApkPackage } from "../../shared/analysis/apk/apk-analyzer.js";
import { identifyDebPackage } from "../../shared/analysis/dpkg/dpkg-analyzer.js";
import { inventoryImage } from "../../shared/analysis/inventory-image.js";
import { osFromOsRelease } from "../../shared/analysis/os/os-release.js";
import { DISTRIBUTIONS, distributionEcosystem } from "../../shared/analysis/os/osv-ecosystem.js";
import { WINDOWS_PROGRAM_ECOSYSTEM } from "../../shared/analysis/windows/windows-inventory.js";
import { ANALYZERS } from "../../shared/analysis/registry.js";
import { DEFAULT_ECOSYSTEMS } from "../../shared/vulndb/osv-export-feed.js";
import { matchInventory } from "../../shared/matching/match.js";
import type { LayerRef, ResolvedImage } from "../../shared/model/image.js";
import { FsBlobStore } from "../../shared/ports/fs-blob-store.js";
import type { ImageSource } from "../../shared/registry/image-source.js";
import { buildDbFromRecords } from "../../shared/vulndb/db-build.js";
import { openDb } from "../../shared/vulndb/db-read.js";
import { corpusPath } from "../support/corpus.js";
import { MemoryBlobStore } from "../vulndb/support/memory-blob-store.js";
import { type Blob, layerBlob, streamOf } from "./layers.js";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

const schema = JSON.parse(await readFile(corpusPath("osv/schema/osv-schema.json"), "utf8")) as {
  $defs: { ecosystemName: { enum: string[] }; ecosystemWithSuffix: { pattern: string } };
};
const OSV_NAMES = new Set(schema.$defs.ecosystemName.enum);
const OSV_PATTERN = new RegExp(schema.$defs.ecosystemWithSuffix.pattern);
const ECOSYSTEM_LIST = Object.keys(
  JSON.parse(await readFile(corpusPath("osv/schema/ecosystems.json"), "utf8")) as Record<string, string>,
);

/** Each distribution's /etc/os-release as its images ship it (the fields that name the release). */
const OS_RELEASES: Record<string, string[]> = {
  debian: [
    'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n',
    'PRETTY_NAME="Debian GNU/Linux 11 (bullseye)"\nID=debian\nVERSION_ID="11"\nVERSION_CODENAME=bullseye\n',
  ],
  ubuntu: [
    'NAME="Ubuntu"\nVERSION="22.04.4 LTS (Jammy Jellyfish)"\nID=ubuntu\nID_LIKE=debian\nPRETTY_NAME="Ubuntu 22.04.4 LTS"\nVERSION_ID="22.04"\nVERSION_CODENAME=jammy\n',
    'PRETTY_NAME="Ubuntu 24.04.1 LTS"\nNAME="Ubuntu"\nVERSION_ID="24.04"\nVERSION="24.04.1 LTS (Noble Numbat)"\nID=ubuntu\n',
    'PRETTY_NAME="Ubuntu 20.04.6 LTS"\nNAME="Ubuntu"\nVERSION_ID="20.04"\nID=ubuntu\n',
    'PRETTY_NAME="Ubuntu 24.10"\nNAME="Ubuntu"\nVERSION_ID="24.10"\nVERSION="24.10 (Oracular Oriole)"\nID=ubuntu\n',
  ],
  alpine: ['NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.20.3\nPRETTY_NAME="Alpine Linux v3.20"\n'],
  wolfi: ['ID=wolfi\nNAME="Wolfi"\nPRETTY_NAME="Wolfi"\nVERSION_ID="20230201"\n'],
  chainguard: ['ID=chainguard\nNAME="Chainguard"\nPRETTY_NAME="Chainguard"\nVERSION_ID="20230214"\n'],
  rocky: [
    'NAME="Rocky Linux"\nVERSION="9.3 (Blue Onyx)"\nID="rocky"\nVERSION_ID="9.3"\nPRETTY_NAME="Rocky Linux 9.3 (Blue Onyx)"\n',
  ],
  almalinux: [
    'NAME="AlmaLinux"\nVERSION="9.4 (Seafoam Ocelot)"\nID="almalinux"\nVERSION_ID="9.4"\nPRETTY_NAME="AlmaLinux 9.4 (Seafoam Ocelot)"\n',
  ],
  azurelinux: [
    'NAME="Microsoft Azure Linux"\nVERSION="3.0.20240727"\nID=azurelinux\nVERSION_ID="3.0"\nPRETTY_NAME="Microsoft Azure Linux 3.0"\n',
  ],
  mageia: ['NAME="Mageia"\nVERSION="9"\nID=mageia\nVERSION_ID=9\nPRETTY_NAME="Mageia 9"\n'],
  photon: [
    'NAME="VMware Photon OS"\nVERSION="5.0"\nID=photon\nVERSION_ID=5.0\nPRETTY_NAME="VMware Photon OS/Linux"\n',
  ],
  rhel: [
    'NAME="Red Hat Enterprise Linux"\nVERSION="9.4 (Plow)"\nID="rhel"\nID_LIKE="fedora"\nVERSION_ID="9.4"\nPRETTY_NAME="Red Hat Enterprise Linux 9.4 (Plow)"\n',
  ],
  mariner: [
    'NAME="Common Base Linux Mariner"\nVERSION="2.0.20240609"\nID=mariner\nVERSION_ID="2.0"\nPRETTY_NAME="CBL-Mariner/Linux"\n',
  ],
  openeuler: [
    'NAME="openEuler"\nVERSION="22.03 (LTS-SP1)"\nID="openEuler"\nVERSION_ID="22.03"\nPRETTY_NAME="openEuler 22.03 (LTS-SP1)"\n',
  ],
  sles: [
    'NAME="SLES"\nVERSION="15-SP5"\nVERSION_ID="15.5"\nPRETTY_NAME="SUSE Linux Enterprise Server 15 SP5"\nID="sles"\n',
  ],
  sles_sap: [
    'NAME="SLES_SAP"\nVERSION="15-SP5"\nVERSION_ID="15.5"\nPRETTY_NAME="SUSE Linux Enterprise Server for SAP Applications 15 SP5"\nID="sles_sap"\n',
  ],
  "sle-micro": [
    'NAME="SLE Micro"\nVERSION="5.5"\nVERSION_ID="5.5"\nPRETTY_NAME="SUSE Linux Enterprise Micro 5.5"\nID="sle-micro"\n',
  ],
  sle_hpc: [
    'NAME="SLE_HPC"\nVERSION="15-SP5"\nVERSION_ID="15.5"\nPRETTY_NAME="SUSE Linux Enterprise High Performance Computing 15 SP5"\nID="sle_hpc"\n',
  ],
  opensuse: [
    'NAME="openSUSE Leap"\nVERSION="42.3"\nID=opensuse\nVERSION_ID="42.3"\nPRETTY_NAME="openSUSE Leap 42.3"\n',
  ],
  "opensuse-tumbleweed": [
    'NAME="openSUSE Tumbleweed"\nID="opensuse-tumbleweed"\nVERSION_ID="20240607"\nPRETTY_NAME="openSUSE Tumbleweed"\n',
  ],
  "opensuse-microos": [
    'NAME="openSUSE MicroOS"\nID="opensuse-microos"\nVERSION_ID="20240607"\nPRETTY_NAME="openSUSE MicroOS"\n',
  ],
  "opensuse-leap": [
    'NAME="openSUSE Leap"\nVERSION="15.5"\nID="opensuse-leap"\nVERSION_ID="15.5"\nPRETTY_NAME="openSUSE Leap 15.5"\n',
  ],
};

/** Every ecosystem string the inventory names a distribution package with, for every sample release. */
function producedEcosystems(): { id: string; ecosystem: string }[] {
  const out: { id: string; ecosystem: string }[] = [];
  for (const d of DISTRIBUTIONS) {
    for (const id of d.ids) {
      for (const text of OS_RELEASES[id] ?? []) {
        const os = osFromOsRelease(text)!;
        const record = {
          kind: d.format,
          name: "zlib",
          version: "1.3-1",
          source: { name: "zlib", version: "1.3-1" },
        };
        const ecosystem =
          d.format === "dpkg"
            ? identifyDebPackage(record, os).ecosystem
            : d.format === "apk"
              ? identifyApkPackage(record, os).ecosystem
              : distributionEcosystem(os);
        out.push({ id, ecosystem: ecosystem ?? "(none)" });
        if (d.format === "dpkg") {
          const esm = { ...record, version: "1.3-1+esm1", source: { name: "zlib", version: "1.3-1+esm1" } };
          out.push({ id, ecosystem: identifyDebPackage(esm, os).ecosystem });
        }
      }
    }
  }
  return out;
}

describe("every ecosystem the inventory can produce is one OSV publishes", () => {
  it("the schema's ecosystem list and ecosystems.json agree (the test reads both)", () => {
    for (const name of OSV_NAMES) if (name !== "GIT") expect(ECOSYSTEM_LIST).toContain(name);
  });

  it("has a real os-release sample for every distribution it knows", () => {
    for (const d of DISTRIBUTIONS) for (const id of d.ids) expect(OS_RELEASES[id], id).toBeDefined();
  });

  it.each(producedEcosystems())("$id → $ecosystem is an OSV ecosystem string", ({ ecosystem }) => {
    expect(ecosystem).toMatch(OSV_PATTERN);
    expect(OSV_NAMES.has(ecosystem.split(":")[0]!)).toBe(true);
  });

  it("names Ubuntu releases as OSV does: LTS suffix, Pro streams for ESM builds, none for interim releases", () => {
    const got = producedEcosystems()
      .filter((e) => e.id === "ubuntu")
      .map((e) => e.ecosystem);
    expect(got).toEqual([
      "Ubuntu:22.04:LTS",
      "Ubuntu:Pro:22.04:LTS",
      "Ubuntu:24.04:LTS",
      "Ubuntu:Pro:24.04:LTS",
      "Ubuntu:20.04:LTS",
      "Ubuntu:Pro:20.04:LTS",
      "Ubuntu:24.10",
      "Ubuntu:Pro:24.10",
    ]);
  });

  it("names Wolfi and Chainguard packages as their own ecosystems and purl namespaces, never Alpine", () => {
    for (const id of ["wolfi", "chainguard"]) {
      const os = osFromOsRelease(OS_RELEASES[id]![0]!)!;
      const named = identifyApkPackage({ kind: "apk", name: "glibc", version: "2.40-r3" }, os);
      expect(named.ecosystem).toBe(id === "wolfi" ? "Wolfi" : "Chainguard");
      expect(named.purl).toMatch(new RegExp(`^pkg:apk/${id}/glibc@2\\.40-r3`));
    }
  });

  it("downloads the OSV export of every distribution whose packages portcullis reads", () => {
    const read = new Set(ANALYZERS.map((a) => a.name));
    for (const d of DISTRIBUTIONS.filter((x) => read.has(x.format)))
      for (const id of d.ids)
        for (const text of OS_RELEASES[id] ?? []) {
          const base = distributionEcosystem(osFromOsRelease(text))!.split(":")[0]!;
          expect(DEFAULT_ECOSYSTEMS, id).toContain(base);
        }
  });

  it("the only non-OSV names are Microsoft's, matched against the MSRC feed or kept as inventory", () => {
    expect(OSV_NAMES.has("Windows")).toBe(false);
    expect(OSV_NAMES.has(WINDOWS_PROGRAM_ECOSYSTEM)).toBe(false);
  });
});

/** An image of one layer, served from memory. */
class OneLayerImage implements ImageSource {
  readonly ref = "example.test/distro:1";
  constructor(private readonly blob: Blob) {}
  async resolve(): Promise<ResolvedImage[]> {
    return [this.image()];
  }
  image(): ResolvedImage {
    return {
      identity: {
        ref: this.ref,
        registry: "example.test",
        repository: "distro",
        digest: `sha256:${"1".repeat(64)}`,
        tags: ["1"],
        platform: { os: "linux", architecture: "amd64" },
      },
      manifestMediaType: "application/vnd.oci.image.manifest.v1+json",
      configDigest: `sha256:${"2".repeat(64)}`,
      config: {},
      layers: [this.blob.ref],
    };
  }
  async openBlob(_layer: LayerRef): Promise<Readable> {
    return streamOf(this.blob.bytes, 4096);
  }
}

interface EndToEnd {
  distro: string;
  osRelease: string;
  db: { path: string; corpus: string };
  /** the advisory, in the shape that distribution's OSV records have */
  record: Record<string, unknown>;
  expect: { package: string; ecosystem: string; fixedVersion: string };
}

const DPKG_STATUS = { path: "var/lib/dpkg/status", corpus: "pkgdb/dpkg/syft/image-dpkg/var/lib/dpkg/status" };
const APK_INSTALLED = {
  path: "lib/apk/db/installed",
  corpus: "pkgdb/apk/trivy-alpine-3.10.4/lib/apk/db/installed",
};
const affected = (ecosystem: string, name: string, fixed: string, extra: Record<string, unknown> = {}) => ({
  package: { ecosystem, name },
  ranges: [{ type: "ECOSYSTEM", events: [{ introduced: "0" }, { fixed }] }],
  ...extra,
});

const END_TO_END: EndToEnd[] = [
  {
    distro: "Debian 12",
    osRelease: OS_RELEASES.debian![0]!,
    db: DPKG_STATUS,
    // DSA records name the source package and carry no severity
    record: {
      id: "DSA-9999-1",
      modified: "2025-01-01T00:00:00Z",
      aliases: ["CVE-2099-1111"],
      affected: [affected("Debian:12", "pam", "1.1.8-3.7")],
    },
    expect: { package: "libpam-runtime", ecosystem: "Debian:12", fixedVersion: "1.1.8-3.7" },
  },
  {
    distro: "Ubuntu 22.04 LTS",
    osRelease: OS_RELEASES.ubuntu![0]!,
    db: DPKG_STATUS,
    // UBUNTU-CVE records carry the Ubuntu priority as an OSV severity of type "Ubuntu"
    record: {
      id: "UBUNTU-CVE-2099-2222",
      modified: "2025-01-01T00:00:00Z",
      upstream: ["CVE-2099-2222"],
      severity: [{ type: "Ubuntu", score: "medium" }],
      affected: [affected("Ubuntu:22.04:LTS", "pam", "1.1.8-3.6ubuntu0.1")],
    },
    expect: { package: "libpam-runtime", ecosystem: "Ubuntu:22.04:LTS", fixedVersion: "1.1.8-3.6ubuntu0.1" },
  },
  {
    distro: "Alpine 3.10",
    osRelease: 'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.10.4\nPRETTY_NAME="Alpine Linux v3.10"\n',
    db: APK_INSTALLED,
    record: {
      id: "ALPINE-CVE-2099-3333",
      modified: "2025-01-01T00:00:00Z",
      upstream: ["CVE-2099-3333"],
      affected: [affected("Alpine:v3.10", "musl", "1.1.22-r4")],
    },
    expect: { package: "musl", ecosystem: "Alpine:v3.10", fixedVersion: "1.1.22-r4" },
  },
  {
    distro: "Wolfi",
    osRelease: OS_RELEASES.wolfi![0]!,
    db: APK_INSTALLED,
    record: {
      id: "CGA-aaaa-bbbb-cccc",
      modified: "2025-01-01T00:00:00Z",
      aliases: ["CVE-2099-4444"],
      affected: [affected("Wolfi", "busybox", "1.30.1-r4")],
    },
    expect: { package: "busybox", ecosystem: "Wolfi", fixedVersion: "1.30.1-r4" },
  },
  {
    distro: "Chainguard",
    osRelease: OS_RELEASES.chainguard![0]!,
    db: APK_INSTALLED,
    record: {
      id: "CGA-dddd-eeee-ffff",
      modified: "2025-01-01T00:00:00Z",
      aliases: ["CVE-2099-5555"],
      affected: [affected("Chainguard", "busybox", "1.30.1-r4")],
    },
    expect: { package: "busybox", ecosystem: "Chainguard", fixedVersion: "1.30.1-r4" },
  },
];

describe("each distribution end to end: a real package database, its os-release, an advisory, a finding", () => {
  it.each(END_TO_END)("$distro", async (c) => {
    const blob = await layerBlob([
      { name: "etc/os-release", content: c.osRelease },
      { name: c.db.path, content: await readFile(corpusPath(c.db.corpus)) },
    ]);
    const source = new OneLayerImage(blob);
    const store = new FsBlobStore(await mkdtemp(path.join(tmpdir(), "portcullis-distro-")));
    const inventory = await inventoryImage(source, source.image(), { store });
    expect(inventory.warnings.map((w) => w.code)).not.toContain("distribution-unsupported");

    const dbStore = new MemoryBlobStore();
    await buildDbFromRecords(dbStore, [c.record], { now: new Date("2025-07-01T00:00:00Z") });
    const matches = await matchInventory(inventory.packages, (await openDb(dbStore))!);
    const hit = matches.find((m) => m.package.name === c.expect.package);
    expect(hit, JSON.stringify(matches.map((m) => m.package))).toBeDefined();
    expect(hit!.package.ecosystem).toBe(c.expect.ecosystem);
    expect(hit!.fixedVersion).toBe(c.expect.fixedVersion);
  });
});
