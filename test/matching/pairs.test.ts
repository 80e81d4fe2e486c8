import { readFileSync } from "node:fs";
import path from "node:path";
import { parse as parseYaml } from "yaml";
import { beforeAll, describe, expect, it } from "vitest";
import { matchInventory } from "../../shared/matching/match.js";
import type { Package } from "../../shared/model/inventory.js";
import { buildDbFromRecords } from "../../shared/vulndb/db-build.js";
import { type DbHandle, openDb } from "../../shared/vulndb/db-read.js";
import { corpusPath } from "../support/corpus.js";
import { fixtureRecords } from "../vulndb/support/fixture-records.js";
import { MemoryBlobStore } from "../vulndb/support/memory-blob-store.js";
import { pkg } from "./support/packages.js";
import { trivyDbToOsv } from "./support/trivy-db.js";

const PAIRS = corpusPath("osv/pairs");
const read = (p: string) => readFileSync(path.join(PAIRS, p), "utf8");

async function dbOf(records: unknown[]): Promise<DbHandle> {
  const store = new MemoryBlobStore();
  await buildDbFromRecords(store, records);
  return (await openDb(store))!;
}

/** The (PkgName, InstalledVersion, VulnerabilityID) set of one golden result target. */
function golden(caseName: string, target?: string): string[] {
  const report = JSON.parse(read(`trivy-integration/${caseName}/expected.json.golden`)) as {
    Results: {
      Target: string;
      Vulnerabilities?: { PkgName: string; InstalledVersion: string; VulnerabilityID: string }[];
    }[];
  };
  return report.Results.filter((r) => target === undefined || r.Target === target)
    .flatMap((r) => r.Vulnerabilities ?? [])
    .map((v) => `${v.PkgName}@${v.InstalledVersion} ${v.VulnerabilityID}`)
    .sort();
}

// Minimal lockfile readers: enough to turn each trivy input into the packages an analyzer would report.
const input = (c: string, f: string) => read(`trivy-integration/${c}/input/${f}`);
const LOCKFILES: Record<string, () => Package[]> = {
  npm: () =>
    Object.entries(
      (JSON.parse(input("npm", "package-lock.json")) as { dependencies: Record<string, { version: string }> })
        .dependencies,
    ).map(([name, d]) => pkg("npm", name, d.version)),
  pnpm: () =>
    Object.keys(
      (parseYaml(input("pnpm", "pnpm-lock.yaml")) as { packages: Record<string, unknown> }).packages,
    ).map((k) => {
      const [, name, version] = /^\/(.+)@([^@]+)$/.exec(k)!;
      return pkg("npm", name!, version!);
    }),
  yarn: () =>
    [...input("yarn", "yarn.lock").matchAll(/^"?(@?[^@\s"]+)@[^\n]*:\n\s+version "([^"]+)"/gm)].map((m) =>
      pkg("npm", m[1]!, m[2]!),
    ),
  pip: () =>
    [...input("pip", "requirements.txt").matchAll(/^([A-Za-z0-9_.-]+)==(\S+)$/gm)].map((m) =>
      pkg("PyPI", m[1]!, m[2]!),
    ),
  pipenv: () =>
    Object.entries(
      (JSON.parse(input("pipenv", "Pipfile.lock")) as { default: Record<string, { version: string }> })
        .default,
    ).map(([name, d]) => pkg("PyPI", name, d.version.replace(/^==/, ""))),
  poetry: () =>
    [
      ...input("poetry", "poetry.lock").matchAll(/^\[\[package\]\]\nname = "([^"]+)"\nversion = "([^"]+)"/gm),
    ].map((m) => pkg("PyPI", m[1]!, m[2]!)),
  gomod: () =>
    [...input("gomod", "go.mod").matchAll(/^\s+(\S+) (v\S+)/gm)].map((m) => pkg("Go", m[1]!, m[2]!)),
  nuget: () =>
    Object.values(
      (
        JSON.parse(input("nuget", "packages.lock.json")) as {
          dependencies: Record<string, Record<string, { resolved: string }>>;
        }
      ).dependencies,
    ).flatMap((deps) => Object.entries(deps).map(([name, d]) => pkg("NuGet", name, d.resolved))),
  dotnet: () =>
    Object.keys(
      (JSON.parse(input("dotnet", "datacollector.deps.json")) as { libraries: Record<string, unknown> })
        .libraries,
    ).map((k) => pkg("NuGet", k.split("/")[0]!, k.split("/")[1]!)),
};

describe("trivy integration pairs (trivy-db fixtures converted to OSV in test support)", () => {
  let db: DbHandle;
  beforeAll(async () => {
    const files = ["alpine", "debian", "nodejs", "python", "go", "nuget"].map((f) =>
      path.join(PAIRS, `trivy-integration/db/${f}.yaml`),
    );
    db = await dbOf(trivyDbToOsv(files));
  });

  const targets: Record<string, string | undefined> = { gomod: "go.mod" };
  it.each(Object.keys(LOCKFILES))("reproduces trivy's findings for the %s input", async (caseName) => {
    const packages = LOCKFILES[caseName]!();
    expect(packages.length).toBeGreaterThan(0);
    const ours = (await matchInventory(packages, db))
      .map((m) => `${m.package.name}@${m.package.version} ${m.id}`)
      .sort();
    expect(ours).toEqual(golden(caseName, targets[caseName]));
  });

  it("reproduces trivy's debian-buster findings, matching by source package", async () => {
    const packages = [
      pkg("Debian:10", "bash", "5.0-4", { name: "bash", version: "5.0-4" }),
      pkg("Debian:10", "libidn2-0", "2.0.5-1", { name: "libidn2", version: "2.0.5-1" }),
      // the debian 9 bucket's e2fsprogs / openssl advisories must not reach a Debian 10 image
      pkg("Debian:10", "e2fsprogs", "1.44.5-1", { name: "e2fsprogs", version: "1.44.5-1" }),
      pkg("Debian:10", "libssl1.1", "1.1.1c-1", { name: "openssl", version: "1.1.1c-1" }),
    ];
    const ms = await matchInventory(packages, db);
    expect(ms.map((m) => `${m.package.name}@${m.package.version} ${m.id}`).sort()).toEqual(
      golden("debian-buster"),
    );
    expect(ms.find((m) => m.package.name === "libidn2-0")?.fixedVersion).toBe("2.0.5-1+deb10u1");
    expect(ms.find((m) => m.package.name === "bash")?.fixedVersion).toBeUndefined();
  });

  it("reproduces trivy's alpine-310 findings, matching libssl/libcrypto by their openssl origin", async () => {
    const openssl = { name: "openssl", version: "1.1.1c-r0" };
    const packages = [
      pkg("Alpine:v3.10", "libcrypto1.1", "1.1.1c-r0", openssl),
      pkg("Alpine:v3.10", "libssl1.1", "1.1.1c-r0", openssl),
      pkg("Alpine:v3.10", "musl", "1.1.22-r3", { name: "musl", version: "1.1.22-r3" }),
    ];
    const ms = await matchInventory(packages, db);
    expect(ms.map((m) => `${m.package.name}@${m.package.version} ${m.id}`).sort()).toEqual(
      golden("alpine-310"),
    );
    expect(new Set(ms.map((m) => m.fixedVersion))).toEqual(new Set(["1.1.1d-r0", "1.1.1d-r2"]));
  });
});

interface Query {
  package?: { ecosystem: string; name: string };
  version?: string;
}

describe("osv-scanner cassette (api.osv.dev answers) against the real records we hold", () => {
  const corpus = [
    ...fixtureRecords("go"),
    ...fixtureRecords("ghsa"),
    ...fixtureRecords("pypi-pysec-yaml"),
    ...fixtureRecords("debian"),
    ...fixtureRecords("linter").filter((r) => r.file === "linter/CVE-2018-5407.json"),
  ].map((r) => r.record);
  // Go records published after the cassette was recorded: no answer in it names them, and each is
  // fixed in Go 1.25.13 / 1.26.6, releases newer than any fix the cassette's answers know of.
  const newerThanCassette = new Set([
    "GO-2026-5026",
    "GO-2026-5972",
    "GO-2026-6088",
    "GO-2026-6089",
    "GO-2026-6090",
    "GO-2026-6091",
    "GO-2026-6179",
    "GO-2026-6180",
    "GO-2026-6218",
  ]);
  const held = new Set(corpus.map((r) => String(r.id)).filter((id) => !newerThanCassette.has(id)));
  const cassette = parseYaml(read("osv-scanner/source/cassettes/TestCommand.yaml")) as {
    interactions: { request: { body: string }; response: { body: string } }[];
  };
  const cases = new Map<string, { query: Required<Query>; expected: string[] }>();
  for (const { request, response } of cassette.interactions) {
    let queries: Query[];
    let results: { vulns?: { id: string }[] }[];
    try {
      queries = (JSON.parse(request.body) as { queries: Query[] }).queries;
      results = (JSON.parse(response.body) as { results: { vulns?: { id: string }[] }[] }).results;
    } catch {
      continue;
    }
    queries.forEach((q, i) => {
      if (!q.package?.ecosystem || !q.version) return;
      const expected = (results[i]?.vulns ?? [])
        .map((v) => v.id)
        .filter((id) => held.has(id))
        .sort();
      cases.set(`${q.package.ecosystem} ${q.package.name}@${q.version}`, {
        query: q as Required<Query>,
        expected,
      });
    });
  }
  const supported = [...cases].filter(([, c]) =>
    /^(Go|npm|PyPI|NuGet|Debian|Alpine)/.test(c.query.package.ecosystem),
  );

  let db: DbHandle;
  beforeAll(async () => {
    db = await dbOf(corpus);
  });

  it("covers cases with and without expected hits", () => {
    expect(supported.filter(([, c]) => c.expected.length > 0).length).toBeGreaterThanOrEqual(4);
    expect(supported.length).toBeGreaterThan(20);
  });

  it.each(supported)(
    "%s gets exactly the held records the API returned",
    async (_key, { query, expected }) => {
      const ms = await matchInventory([pkg(query.package.ecosystem, query.package.name, query.version)], db);
      const ours = ms
        .flatMap((m) => [m.id, ...m.aliases])
        .filter((id) => held.has(id))
        .sort();
      expect(ours).toEqual(expected);
    },
  );
});
