import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { identifyRpmPackage } from "../../shared/analysis/rpm/rpm-analyzer.js";
import { matchInventory } from "../../shared/matching/match.js";
import type { Package } from "../../shared/model/inventory.js";
import { buildDbFromRecords } from "../../shared/vulndb/db-build.js";
import { openDb } from "../../shared/vulndb/db-read.js";
import { corpusPath } from "../support/corpus.js";
import { MemoryBlobStore } from "../vulndb/support/memory-blob-store.js";

// A real Red Hat advisory in OSV form (git-lfs, RHSA-2024:4546), published for the AppStream
// repository of RHEL 8.6 Advanced Update Support, against git-lfs as a RHEL or UBI rpmdb names it.
const RECORD = JSON.parse(
  readFileSync(corpusPath("osv/redhat-csaf-to-osv-pair/RHSA-2024_4546.osv.json"), "utf8"),
) as unknown;

/** git-lfs as the rpm analyzer names it on a RHEL image of that release. */
function gitLfs(osVersion: string, release: string): Package {
  const version = `2.13.3-${release}`;
  const record = {
    kind: "rpm",
    name: "git-lfs",
    version,
    source: { name: "git-lfs", version },
    arch: "x86_64",
  };
  const { ecosystem, purl } = identifyRpmPackage(record, { family: "rhel", version: osVersion });
  return { name: "git-lfs", version, ecosystem, purl, source: record.source, layer: "sha256:0", paths: [] };
}

async function matchesFor(pkg: Package) {
  const store = new MemoryBlobStore();
  await buildDbFromRecords(store, [RECORD], { now: new Date("2025-07-01T00:00:00Z") });
  return matchInventory([pkg], (await openDb(store))!);
}

describe("RHEL packages and Red Hat's product streams", () => {
  it("matches a RHEL 8.6 package against the 8.6 AppStream (AUS) advisory, though the rpmdb names no stream", async () => {
    const pkg = gitLfs("8.6", "3.el8_6");
    // the inventory's own name for it is the BaseOS stream of the major release
    expect(pkg.ecosystem).toBe("Red Hat:enterprise_linux:8::baseos");
    const [match, ...rest] = await matchesFor(pkg);
    expect(rest).toEqual([]);
    expect(match).toMatchObject({ id: "RHSA-2024:4546", fixedVersion: "0:2.13.3-3.el8_6.1" });
  });

  it("does not match the fixed build, nor another minor release's image against an 8.6-only stream", async () => {
    expect(await matchesFor(gitLfs("8.6", "3.el8_6.1"))).toEqual([]);
    expect(await matchesFor(gitLfs("8.8", "3.el8_6"))).toEqual([]);
    expect(await matchesFor(gitLfs("9.2", "3.el8_6"))).toEqual([]);
  });
});
