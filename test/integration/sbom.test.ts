import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { PackageURL } from "packageurl-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CliResult, runCli } from "../support/cli.js";
import { buildDebianTestImage, type DebianTestImage } from "../support/debian-image.js";
import { writeDockerConfig } from "../support/docker-config.js";
import { pushImage } from "../support/push-image.js";
import { type RegistryAuthMode, type RegistryServer, startRegistry } from "../support/registry-server.js";

// The `image` + `packages` part of the JSON report contract (README), as far as this suite reads it.
interface SbomReport {
  image: {
    ref: string;
    digest: string;
    platform: { os: string; architecture: string; variant?: string };
    os?: { family: string; version: string };
  };
  packages: {
    name: string;
    version: string;
    ecosystem: string;
    purl: string;
    source?: { name: string; version: string };
    layer: string;
  }[];
}

interface DpkgRow {
  name: string;
  version: string;
  sourceName: string;
  sourceVersion: string;
}

const CLI_TIMEOUT = 300_000;
const byNameVersion = (a: DpkgRow, b: DpkgRow) =>
  a.name < b.name ? -1 : a.name > b.name ? 1 : a.version < b.version ? -1 : a.version > b.version ? 1 : 0;

/** One report per scanned platform image: a single object, or an array of them for several. */
function parseReports(r: CliResult): SbomReport[] {
  expect(r.code, r.stderr).toBe(0);
  const parsed = JSON.parse(r.stdout) as SbomReport | SbomReport[];
  return Array.isArray(parsed) ? parsed : [parsed];
}

/** The report's dpkg packages in dpkg-query's terms; a missing `source` means "same as the binary". */
function dpkgRows(report: SbomReport): DpkgRow[] {
  return report.packages
    .filter((p) => p.purl.startsWith("pkg:deb/"))
    .map((p) => ({
      name: p.name,
      version: p.version,
      sourceName: p.source?.name ?? p.name,
      sourceVersion: p.source?.version ?? p.version,
    }))
    .sort(byNameVersion);
}

describe("portcullis sbom on a real Debian bookworm image", () => {
  let image: DebianTestImage;
  let expected: DpkgRow[];
  let home: string;
  let emptyDockerConfig: string;

  /** Runs the CLI with its own cache and home, so every case analyses its layers itself. */
  async function sbom(args: string[], dockerConfig = emptyDockerConfig): Promise<CliResult> {
    const cache = await mkdtemp(path.join(home, "run-"));
    return runCli(["sbom", ...args], {
      env: { DOCKER_CONFIG: dockerConfig, HOME: cache, XDG_CACHE_HOME: path.join(cache, ".cache") },
      timeoutMs: CLI_TIMEOUT,
    });
  }

  beforeAll(async () => {
    image = await buildDebianTestImage();
    expected = image.packages
      .map(({ name, version, sourceName, sourceVersion }) => ({ name, version, sourceName, sourceVersion }))
      .sort(byNameVersion);
    home = await mkdtemp(path.join(os.tmpdir(), "portcullis-sbom-it-"));
    emptyDockerConfig = await writeDockerConfig();
  }, 900_000);

  afterAll(async () => {
    await rm(home, { recursive: true, force: true });
    await rm(emptyDockerConfig, { recursive: true, force: true });
  });

  describe.each<RegistryAuthMode>(["anonymous", "basic", "bearer"])(
    "from the Distribution registry (%s)",
    (auth) => {
      let reg: RegistryServer;
      let dockerConfig: string;
      let ref: string;

      beforeAll(async () => {
        reg = await startRegistry({ auth });
        const creds = reg.username ? { username: reg.username, password: reg.password! } : undefined;
        ref = `${reg.host}/portcullis/debian:bookworm`;
        await pushImage(image.ociIndexRef, ref, { all: true, creds });
        dockerConfig = await writeDockerConfig(creds ? { [reg.host]: creds } : {});
      }, 300_000);

      afterAll(async () => {
        await reg?.stop();
        if (dockerConfig) await rm(dockerConfig, { recursive: true, force: true });
      });

      it(
        "reports exactly the packages dpkg-query lists, from the linux/amd64 image of the index",
        async () => {
          const reports = parseReports(
            await sbom([ref, "--format", "json", "--insecure-registry", reg.host], dockerConfig),
          );
          expect(reports).toHaveLength(1);
          const [report] = reports as [SbomReport];
          expect(report.image.platform).toMatchObject({ os: "linux", architecture: "amd64" });
          expect(report.image.digest).toBe(image.platforms[0]!.manifestDigest);
          expect(dpkgRows(report)).toEqual(expected);
        },
        CLI_TIMEOUT,
      );
    },
  );

  describe.each<RegistryAuthMode>(["basic", "bearer"])("from a registry with %s auth", (auth) => {
    let reg: RegistryServer;
    beforeAll(async () => {
      reg = await startRegistry({ auth });
      await pushImage(image.ociAmd64Ref, `${reg.host}/portcullis/debian:bookworm`, {
        creds: { username: reg.username!, password: reg.password! },
      });
    }, 300_000);
    afterAll(async () => {
      await reg?.stop();
    });

    it(
      "fails with a one-line credentials error when the Docker config holds a wrong password",
      async () => {
        const wrong = await writeDockerConfig({ [reg.host]: { username: reg.username!, password: "wrong" } });
        try {
          const ref = `${reg.host}/portcullis/debian:bookworm`;
          const r = await sbom([ref, "--format", "json", "--insecure-registry", reg.host], wrong);
          expect(r.code, r.stderr).toBe(1);
          expect(r.stdout).toBe("");
          expect(r.stderr.trim().split("\n")).toHaveLength(1);
          expect(r.stderr).toMatch(/401|unauthori[sz]ed|credential|authenticat/i);
        } finally {
          await rm(wrong, { recursive: true, force: true });
        }
      },
      CLI_TIMEOUT,
    );
  });

  describe("from file transports", () => {
    const transports: [string, (img: DebianTestImage) => string][] = [
      ["oci: (the index tag)", (img) => img.ociIndexRef],
      ["oci: (the amd64 tag)", (img) => img.ociAmd64Ref],
      ["oci-archive:", (img) => `oci-archive:${img.ociArchive}:${img.indexTag}`],
      ["docker-archive:", (img) => `docker-archive:${img.dockerArchive}`],
    ];

    it.each(transports)(
      "%s reports exactly the packages dpkg-query lists",
      async (_name, refOf) => {
        const reports = parseReports(await sbom([refOf(image), "--format", "json"]));
        expect(reports).toHaveLength(1);
        const [report] = reports as [SbomReport];
        expect(report.image.platform).toMatchObject({ os: "linux", architecture: "amd64" });
        expect(report.image.os).toMatchObject({ family: "debian", version: image.debianVersion });
        expect(dpkgRows(report)).toEqual(expected);
        expect(
          new Set(report.packages.filter((p) => p.purl.startsWith("pkg:deb/")).map((p) => p.ecosystem)),
        ).toEqual(new Set(["Debian:12"]));
      },
      CLI_TIMEOUT,
    );

    it.each(transports)(
      "%s attributes every package to the layer that introduced it",
      async (_name, refOf) => {
        const [report] = parseReports(await sbom([refOf(image), "--format", "json"])) as [SbomReport];
        const layerOf = new Map(report.packages.map((p) => [p.name, p.layer]));
        // docker-archive stores layers uncompressed, so there a layer may be named by its diff id.
        const names = (i: number) => [image.layers[i]!.digest, image.layers[i]!.diffId];
        expect(names(1)).toContain(layerOf.get(image.addedPackage));
        for (const added of image.addedPackages) expect(names(1)).toContain(layerOf.get(added));
        expect(names(0)).toContain(layerOf.get("base-files"));
        for (const p of image.packages) expect(names(p.layerIndex), p.name).toContain(layerOf.get(p.name));
        expect(layerOf.has(image.removedPackage)).toBe(false);
      },
      CLI_TIMEOUT,
    );
  });

  it(
    "reports both platforms of the index with --platform all",
    async () => {
      const reports = parseReports(await sbom([image.ociIndexRef, "--format", "json", "--platform", "all"]));
      const platforms = reports
        .map((r) => [r.image.platform.os, r.image.platform.architecture].join("/"))
        .sort();
      expect(platforms).toEqual(["linux/amd64", "linux/arm64"]);
      const arm = reports.find((r) => r.image.platform.architecture === "arm64")!;
      expect(arm.image.platform.variant).toBe("v8");
      expect(arm.image.digest).toBe(image.platforms[1]!.manifestDigest);
      // The arm64 manifest shares the amd64 layers, so its packages are the same.
      for (const r of reports) expect(dpkgRows(r)).toEqual(expected);
    },
    CLI_TIMEOUT,
  );

  it(
    "writes CycloneDX JSON whose components carry pkg:deb/debian purls for exactly the dpkg packages",
    async () => {
      const r = await sbom([image.ociIndexRef, "--format", "cyclonedx-json"]);
      expect(r.code, r.stderr).toBe(0);
      const bom = JSON.parse(r.stdout) as {
        bomFormat: string;
        specVersion: string;
        components?: { name: string; version?: string; purl?: string }[];
      };
      expect(bom.bomFormat).toBe("CycloneDX");
      expect(bom.specVersion).toBe("1.6");
      const debs = (bom.components ?? []).filter((c) => c.purl?.startsWith("pkg:deb/"));
      for (const c of debs) expect(c.purl).toMatch(/^pkg:deb\/debian\/[^@]+@[^?]+(\?.*distro=debian-12)/);
      const fromPurls = debs
        .map((c) => PackageURL.fromString(c.purl!))
        .map((p) => `${p.name} ${p.version}`)
        .sort();
      expect(fromPurls).toEqual(expected.map((p) => `${p.name} ${p.version}`).sort());
    },
    CLI_TIMEOUT,
  );
});
