import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { FsBlobStore } from "../../shared/ports/fs-blob-store.js";
import { buildDbFromRecords } from "../../shared/vulndb/db-build.js";
import { changeSetOf, changesNothing } from "../../shared/vulndb/db-changes.js";
import type { DbMetadata } from "../../shared/vulndb/db-format.js";

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function store(): Promise<FsBlobStore> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "portcullis-changes-"));
  dirs.push(dir);
  return new FsBlobStore(dir);
}

const record = (id: string, ecosystem: string, name: string, aliases: string[] = []) => ({
  schema_version: "1.6.0",
  id,
  modified: "2025-01-01T00:00:00Z",
  aliases,
  affected: [
    {
      package: { ecosystem, name },
      ranges: [{ type: "ECOSYSTEM", events: [{ introduced: "0" }, { fixed: "9.9" }] }],
    },
  ],
});

/** A DB holding advisories for three packages, with the change record a later update would write. */
async function dbWith(changes: DbMetadata["changes"]) {
  const blobs = await store();
  const { metadata } = await buildDbFromRecords(blobs, [
    record("DSA-1", "Debian:12", "openssl", ["CVE-2024-0001"]),
    // a distribution's own id for a CVE names that CVE without an alias
    record("DEBIAN-CVE-2024-0002", "Debian:12", "curl"),
    record("GHSA-aaaa-bbbb-cccc", "PyPI", "Foo_Bar", ["CVE-2024-0003"]),
    record("GHSA-dddd-eeee-ffff", "npm", "left-pad", ["CVE-2024-0009"]),
  ]);
  return { blobs, metadata: { ...metadata, changes } };
}

describe("a DB update's change set", () => {
  it("passes the changed packages on, each once", async () => {
    const { blobs, metadata } = await dbWith({
      since: "v1",
      full: false,
      packages: [
        { ecosystem: "Debian:12", name: "openssl" },
        { ecosystem: "Windows", name: "Windows Server 2022" },
        { ecosystem: "Debian:12", name: "openssl" },
      ],
    });
    const set = await changeSetOf(blobs, metadata);
    expect(set.packages).toEqual([
      { ecosystem: "Debian:12", name: "openssl" },
      { ecosystem: "Windows", name: "Windows Server 2022" },
    ]);
    expect(set.changedCves).toEqual([]);
    expect(changesNothing(set)).toBe(false);
  });

  it("maps changed CVE ratings to the packages of the advisories that alias them", async () => {
    const { blobs, metadata } = await dbWith({
      since: "v1",
      full: false,
      // the CVE records' feed lists a CVE as a package of its pseudo-ecosystem; a severity feed fills `cves`
      packages: [{ ecosystem: "CVE", name: "CVE-2024-0002" }],
      changedCves: ["CVE-2024-0001", "CVE-2024-0003", "CVE-2030-9999"],
    });
    const set = await changeSetOf(blobs, metadata);
    expect(set.changedCves).toEqual(["CVE-2024-0001", "CVE-2024-0002", "CVE-2024-0003", "CVE-2030-9999"]);
    expect(set.packages.map((p) => `${p.ecosystem}|${p.name}`).sort()).toEqual([
      "Debian:12|curl",
      "Debian:12|openssl",
      "PyPI|foo-bar",
    ]);
  });

  it("says an update that changed no advisory changes nothing", async () => {
    const { blobs, metadata } = await dbWith({ since: "v1", full: false, packages: [] });
    const set = await changeSetOf(blobs, metadata);
    expect(changesNothing(set)).toBe(true);
    expect(set).toMatchObject({ since: "v1", version: metadata.version, packages: [], changedCves: [] });
  });

  it("marks a DB with no predecessor as a full change", async () => {
    const { blobs, metadata } = await dbWith({ since: null, full: true, packages: [] });
    expect(changesNothing(await changeSetOf(blobs, metadata))).toBe(false);
  });
});
