import { cp, mkdir, mkdtemp, readdir, rm } from "node:fs/promises";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Report } from "../../shared/model/report.js";
import { runCli } from "../support/cli.js";
import { writeDockerConfig } from "../support/docker-config.js";
import { pushImage } from "../support/push-image.js";
import { type RegistryServer, startRegistry } from "../support/registry-server.js";
import {
  currentVersionKeys,
  initLayout,
  uninstallKey,
  type WindowsImageSpec,
  writeImageIndex,
  writeLinuxImage,
  writeWindowsImage,
} from "./support/windows-image.js";

const MSRC_FIXTURES = fileURLToPath(new URL("../fixtures/windows/msrc/", import.meta.url));
const SERVER_CORE_2025 = "Windows Server 2025 (Server Core installation)";
// the August 2025 cumulative update for Server 2025 (CVRF fixture): KB5063878, build 26100.4946
const FIXED = "10.0.26100.4946";
const REMEDIATION = `Rebuild on a base image with OS build ≥ ${FIXED} (KB5063878, e.g. mcr.microsoft.com/windows/servercore:ltsc2025 pulled after 2025-08-12)`;

const runtimeDeps = (version: string) => ({
  [`Program Files/dotnet/shared/Microsoft.NETCore.App/${version}/Microsoft.NETCore.App.deps.json`]: "{}",
});

/** A Server Core-style image: a base layer (OS build in its hive delta) and an app layer. */
function serverImage(options: {
  build?: number;
  ubr: number;
  installationType?: "Server Core" | "Nano Server" | "Client";
  productName?: string;
  osVersion?: string;
  dotnet?: string;
}): WindowsImageSpec {
  const build = options.build ?? 26100;
  return {
    osVersion: options.osVersion ?? `10.0.${build}.${options.ubr}`,
    layers: [
      {
        files: { "Windows/System32/ntdll.dll": "MZ" },
        software: currentVersionKeys({
          build,
          ubr: options.ubr,
          installationType: options.installationType ?? "Server Core",
          productName: options.productName ?? "Windows Server 2025 Datacenter",
        }),
      },
      {
        files: options.dotnet ? runtimeDeps(options.dotnet) : { "app/app.exe": "MZ" },
        software: [uninstallKey("{7F0A}", "Contoso Agent", "2.1.0", "Contoso")],
      },
    ],
  };
}

let registry: RegistryServer;
let work: string;
let cacheDir: string;
let layoutDir: string;
const built = new Map<string, string[]>();

async function scan(ref: string, ...extra: string[]): Promise<{ report: Report; stderr: string }> {
  const res = await runCli([
    "scan",
    ref,
    "--format",
    "json",
    "--insecure-registry",
    registry.host,
    "--offline",
    "--cache-dir",
    cacheDir,
    ...extra,
  ]);
  if (res.code !== 0) throw new Error(`scan ${ref} exited ${res.code}: ${res.stderr}`);
  return { report: JSON.parse(res.stdout) as Report, stderr: res.stderr };
}

const windowsFindings = (r: Report) => r.findings.filter((f) => f.package.ecosystem === "Windows");

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), "portcullis-winimg-"));
  cacheDir = path.join(work, "cache");
  registry = await startRegistry();

  // the DB: the fixture CVRF documents imported as they come from MSRC
  const cvrf = path.join(work, "cvrf");
  await mkdir(cvrf);
  for (const f of await readdir(MSRC_FIXTURES))
    if (/^cvrf-.*\.json$/.test(f)) await cp(path.join(MSRC_FIXTURES, f), path.join(cvrf, f));
  const imported = await runCli(["db", "import", cvrf, "--cache-dir", cacheDir]);
  expect(imported.code, imported.stderr).toBe(0);

  const layout = path.join(work, "layout");
  await initLayout(layout);
  const images: Record<string, WindowsImageSpec> = {
    below: serverImage({ ubr: 3775, dotnet: "8.0.2" }),
    equal: serverImage({ ubr: 4946 }),
    above: serverImage({ ubr: 5074 }),
    nano: serverImage({
      ubr: 3775,
      installationType: "Nano Server",
      productName: "Windows Server 2025 Datacenter",
    }),
    client: serverImage({ ubr: 3775, installationType: "Client", productName: "Windows 10 Pro" }),
    mismatch: serverImage({ ubr: 3775, osVersion: FIXED }),
    foreign: {
      osVersion: "10.0.26100.3775",
      foreignBase: { repository: "servercore" },
      layers: [{ files: { "app/app.exe": "MZ" } }],
    },
  };
  for (const [tag, spec] of Object.entries(images)) {
    built.set(tag, (await writeWindowsImage(layout, tag, spec)).layers);
    if (spec.foreignBase === undefined)
      await pushImage(`oci:${layout}:${tag}`, `${registry.host}/win/server:${tag}`);
  }
  layoutDir = layout;
  const windows = await writeWindowsImage(layout, "multi-windows", serverImage({ ubr: 3775 }));
  const linux = await writeLinuxImage(layout, "multi-linux");
  await writeImageIndex(layout, "multi", [
    { manifest: linux.manifest, platform: { os: "linux", architecture: "amd64" } },
    {
      manifest: windows.manifest,
      platform: { os: "windows", architecture: "amd64", "os.version": "10.0.26100.3775" },
    },
  ]);
  await pushImage(`oci:${layout}:multi`, `${registry.host}/win/multi:latest`, { all: true });
}, 240_000);

afterAll(async () => {
  await registry?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe("Windows images pushed to the registry and scanned through the CLI", () => {
  it("names the product and build in image.os, and the OS package by its MSRC product", async () => {
    const { report } = await scan(`${registry.host}/win/server:below`);
    expect(report.image.platform).toMatchObject({ os: "windows", "os.version": "10.0.26100.3775" });
    expect(report.image.os).toEqual({
      family: "windows",
      version: "10.0.26100.3775",
      name: SERVER_CORE_2025,
    });
    const [base, app] = built.get("below")!;
    expect(report.packages).toContainEqual(
      expect.objectContaining({
        ecosystem: "Windows",
        name: SERVER_CORE_2025,
        version: "10.0.26100.3775",
        layer: base,
      }),
    );
    // the program comes from the app layer's hive delta, inventory only
    expect(report.packages).toContainEqual(
      expect.objectContaining({ ecosystem: "windows-program", name: "Contoso Agent", layer: app }),
    );
  });

  it("finds the CVEs of a build below the fix, grouped into one base-image action with the KB and date", async () => {
    const { report } = await scan(`${registry.host}/win/server:below`);
    const windows = windowsFindings(report);
    expect(windows.length).toBeGreaterThan(30);
    expect(windows.find((f) => f.id === "CVE-2025-49751")).toMatchObject({ fixedVersion: FIXED });
    // one base image update fixes them all: every finding carries the same action
    expect(new Set(windows.map((f) => f.remediation))).toEqual(new Set([REMEDIATION]));
  });

  it("says which .NET runtime to install for a runtime-pack finding", async () => {
    const { report } = await scan(`${registry.host}/win/server:below`);
    expect(report.findings.find((f) => f.package.ecosystem === "NuGet")).toMatchObject({
      id: "CVE-2024-21392",
      package: { name: "Microsoft.NETCore.App.Runtime.win-x64", version: "8.0.2" },
      fixedVersion: "8.0.3",
      remediation: ".NET runtime 8.0.2 → ≥ 8.0.3",
    });
  });

  it.each([
    ["equal to", "equal"],
    ["above", "above"],
  ])("finds no Windows CVE at a build %s the fixed build", async (_label, tag) => {
    const { report } = await scan(`${registry.host}/win/server:${tag}`);
    expect(report.image.os?.name).toBe(SERVER_CORE_2025);
    expect(windowsFindings(report)).toEqual([]);
  });

  it("keeps products apart at the same build: Nano Server and Windows 11 are not Server Core", async () => {
    const nano = (await scan(`${registry.host}/win/server:nano`)).report;
    const client = (await scan(`${registry.host}/win/server:client`)).report;
    expect(nano.image.os?.name).toBe("Windows Server 2025 (Nano Server installation)");
    expect(client.image.os?.name).toBe("Windows 11 Version 24H2 for x64-based Systems");
    // MSRC publishes no Nano Server product, and the fixture month has no 24H2 client fix
    expect(windowsFindings(nano)).toEqual([]);
    expect(windowsFindings(client)).toEqual([]);
    // no finding is not the same as clean: the Nano Server report says why nothing matched
    expect(nano.warnings.map((w) => w.code)).toContain("windows-nano-server-unmatched");
    expect(client.warnings.map((w) => w.code)).not.toContain("windows-nano-server-unmatched");
  });

  it("trusts the hive over a disagreeing os.version, with a warning", async () => {
    const { report } = await scan(`${registry.host}/win/server:mismatch`);
    expect(report.image.os?.version).toBe("10.0.26100.3775");
    expect(report.warnings.map((w) => w.code)).toContain("windows-os-version-mismatch");
    expect(windowsFindings(report).length).toBeGreaterThan(30);
  });

  it("skips a foreign base layer with a warning and still judges the OS from os.version", async () => {
    // from the OCI layout; the same from a registry that allows layer URLs is the last describe below
    const { report } = await scan(`oci:${layoutDir}:foreign`);
    const codes = report.warnings.map((w) => w.code);
    expect(codes).toEqual(expect.arrayContaining(["foreign-layer-skipped", "windows-os-from-config"]));
    expect(report.image.os).toEqual({
      family: "windows",
      version: "10.0.26100.3775",
      name: SERVER_CORE_2025,
    });
    expect(report.packages).toContainEqual(
      expect.objectContaining({ name: SERVER_CORE_2025, layer: built.get("foreign")![0] }),
    );
    expect(windowsFindings(report).length).toBeGreaterThan(30);
  });

  it.each([["windows/amd64"], ["windows/amd64:10.0.26100"]])(
    "selects the Windows image of an index next to a Linux image with --platform %s",
    async (platform) => {
      const { report } = await scan(`${registry.host}/win/multi:latest`, "--platform", platform);
      expect(report.image.platform).toMatchObject({ os: "windows", "os.version": "10.0.26100.3775" });
      expect(report.image.os?.name).toBe(SERVER_CORE_2025);
      expect(windowsFindings(report).length).toBeGreaterThan(30);
    },
  );
});

/** A loopback stand-in for mcr.microsoft.com's blob endpoint: serves one blob, records who asked. */
async function startBlobServer(): Promise<{
  url: string;
  blob: Buffer;
  tampered: boolean;
  requests: { path: string; headers: IncomingHttpHeaders }[];
  close(): Promise<void>;
}> {
  const state = {
    url: "",
    blob: Buffer.alloc(0),
    tampered: false,
    requests: [] as { path: string; headers: IncomingHttpHeaders }[],
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  const server: Server = createServer((req, res) => {
    state.requests.push({ path: req.url ?? "", headers: req.headers });
    const body = state.tampered ? Buffer.from(state.blob).fill(7, 40, 60) : state.blob;
    res.writeHead(200, { "content-type": "application/octet-stream", "content-length": body.length });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return state;
}

describe("a Windows image whose base layer is foreign, pushed to a registry that allows layer URLs", () => {
  let secured: RegistryServer;
  let blobs: Awaited<ReturnType<typeof startBlobServer>>;
  let dockerConfig: string;
  let baseDigest: string;
  const ref = () => `${secured.host}/win/foreign:3775`;
  const foreignScan = (cache: string, ...extra: string[]) =>
    runCli(
      [
        "scan",
        ref(),
        "--format",
        "json",
        "--insecure-registry",
        secured.host,
        "--offline",
        "--cache-dir",
        cache,
        ...extra,
      ],
      { env: { DOCKER_CONFIG: dockerConfig } },
    );
  const freshCache = async () => {
    const dir = await mkdtemp(path.join(work, "cache-foreign-"));
    await cp(path.join(cacheDir, "vulndb"), path.join(dir, "vulndb"), { recursive: true });
    return dir;
  };

  beforeAll(async () => {
    blobs = await startBlobServer();
    // credentials the registry demands: they must never reach the layer's URL host
    secured = await startRegistry({ auth: "basic", allowForeignLayerUrls: true });
    const creds = { username: secured.username!, password: secured.password! };
    dockerConfig = await writeDockerConfig({ [secured.host]: creds });
    const image = await writeWindowsImage(layoutDir, "foreign-3775", {
      osVersion: "10.0.26100.3775",
      foreignBase: {
        repository: "servercore",
        layer: {
          files: { "Windows/System32/ntdll.dll": "MZ" },
          software: currentVersionKeys({
            build: 26100,
            ubr: 3775,
            installationType: "Server Core",
            productName: "Windows Server 2025 Datacenter",
          }),
        },
        // the path mcr.microsoft.com uses, on a loopback host
        url: (digest) => `${blobs.url}/v2/windows/servercore/blobs/${digest}`,
      },
      layers: [{ files: { "app/app.exe": "MZ" } }],
    });
    blobs.blob = image.foreignBlob!;
    baseDigest = image.layers[0]!;
    // skopeo leaves a layer with URLs where it is: only the manifest and the app layer are pushed
    await pushImage(`oci:${layoutDir}:foreign-3775`, ref(), { creds });
  }, 240_000);

  afterAll(async () => {
    await secured?.stop();
    await blobs?.close();
  });

  it("skips the foreign layer by default and judges the OS from os.version and the layer's URL", async () => {
    const res = await foreignScan(await freshCache());
    expect(res.code, res.stderr).toBe(0);
    const report = JSON.parse(res.stdout) as Report;
    expect(report.warnings.map((w) => w.code)).toEqual(
      expect.arrayContaining(["foreign-layer-skipped", "windows-os-from-config"]),
    );
    expect(report.image.os).toEqual({
      family: "windows",
      version: "10.0.26100.3775",
      name: SERVER_CORE_2025,
    });
    expect(windowsFindings(report).length).toBeGreaterThan(30);
    expect(blobs.requests).toEqual([]);
  });

  it("with --allow-foreign-layers, refuses a layer whose bytes are not its digest", async () => {
    blobs.tampered = true;
    try {
      const res = await foreignScan(await freshCache(), "--allow-foreign-layers");
      expect(res.code).toBe(1);
      expect(res.stderr).toMatch(
        /foreign layer sha256:\w+ from http:\/\/127\.0\.0\.1:\d+\/.*content hashes to sha256:\w+, not/,
      );
    } finally {
      blobs.tampered = false;
      blobs.requests.length = 0;
    }
  });

  it("with --allow-foreign-layers, fetches the layer from its URL without credentials and reads its hive", async () => {
    const res = await foreignScan(await freshCache(), "--allow-foreign-layers");
    expect(res.code, res.stderr).toBe(0);
    const report = JSON.parse(res.stdout) as Report;
    const codes = report.warnings.map((w) => w.code);
    expect(codes).not.toContain("foreign-layer-skipped");
    expect(codes).not.toContain("windows-os-from-config");
    expect(report.packages).toContainEqual(
      expect.objectContaining({ ecosystem: "Windows", name: SERVER_CORE_2025, layer: baseDigest }),
    );
    expect(windowsFindings(report).length).toBeGreaterThan(30);
    expect(blobs.requests.map((r) => r.path)).toEqual([`/v2/windows/servercore/blobs/${baseDigest}`]);
    expect(blobs.requests[0]!.headers.authorization).toBeUndefined();
  });
});
