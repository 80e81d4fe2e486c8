// The rpm analyzer, the os-owned file lists and the configuration audit all read the rpm database
// the walk hands them: it is parsed once per buffer, and what each reads from it is unchanged.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { readRpmOwnedFiles } from "../../../shared/analysis/os-owned/package-manager-files.js";
import { parseRpmDatabase, readRpmDbBlobs } from "../../../shared/analysis/rpm/rpm-analyzer.js";
import { RpmDbError } from "../../../shared/analysis/rpm/rpm-db.js";
import { corpusPath } from "../../support/corpus.js";

const db = () => readFileSync(corpusPath("pkgdb/rpm", "syft/Packages"));

describe("the rpm database, read by three analyzers", () => {
  it("is parsed once per buffer, and a copy of the bytes is parsed again", async () => {
    const content = db();
    const first = readRpmDbBlobs(content);
    expect(readRpmDbBlobs(content)).toBe(first);
    const again = readRpmDbBlobs(Buffer.from(content));
    expect(again).not.toBe(first);
    expect((await again).blobs.length).toBe((await first).blobs.length);
    expect((await first).blobs.length).toBeGreaterThan(0);
  });

  it("gives each reader the same answer whether it reads first or after another", async () => {
    const alone = await parseRpmDatabase(db(), "var/lib/rpm/Packages");
    const ownedAlone = await readRpmOwnedFiles(db(), () => true);
    const shared = db();
    const owned = await readRpmOwnedFiles(shared, () => true);
    const out = await parseRpmDatabase(shared, "var/lib/rpm/Packages");
    expect(out).toEqual(alone);
    expect(owned).toEqual(ownedAlone);
    expect(out.packages.length).toBeGreaterThan(0);
  });

  it("rejects bytes that are no rpm database, each time it is asked", async () => {
    const junk = Buffer.from("not a database");
    await expect(readRpmDbBlobs(junk)).rejects.toBeInstanceOf(RpmDbError);
    await expect(readRpmDbBlobs(junk)).rejects.toBeInstanceOf(RpmDbError);
    const out = await parseRpmDatabase(junk, "var/lib/rpm/Packages");
    expect(out.packages).toEqual([]);
    expect(out.warnings.map((w) => w.code)).toEqual(["rpm-db-unreadable"]);
  });
});
