import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalHost, startLocalHost } from "../../shared/local/host.js";
import type { Report } from "../../shared/model/report.js";
import { pushImage } from "../support/push-image.js";
import { type RegistryServer, startRegistry } from "../support/registry-server.js";
import {
  type BuiltImage,
  currentVersionKeys,
  initLayout,
  type WindowsImageSpec,
  writeImageIndex,
  writeLinuxImage,
  writeWindowsImage,
} from "../windows/support/windows-image.js";
import { callApi, hostNotifications, testHostOptions, waitForVerdict } from "./support/local-host-api.js";
import { writeMsrcTestDb } from "./support/msrc-test-db.js";

/**
 * Windows images through the whole pipeline: skopeo pushes them to the real Distribution registry,
 * its notification reaches the local host, and the gate answers from a DB of the fixture MSRC months.
 */
const SERVER_CORE_2025 = "Windows Server 2025 (Server Core installation)";
// the August 2025 cumulative update for Server 2025 (CVRF fixture): KB5063878, build 26100.4946
const FIXED = "10.0.26100.4946";
const REMEDIATION = `Rebuild on a base image with OS build ≥ ${FIXED} (KB5063878, e.g. mcr.microsoft.com/windows/servercore:ltsc2025 pulled after 2025-08-12)`;

/** A Server Core image: the base layer's hive delta names the build, an app layer on top. */
const serverCore = (ubr: number): WindowsImageSpec => ({
  osVersion: `10.0.26100.${ubr}`,
  layers: [
    {
      files: { "Windows/System32/ntdll.dll": "MZ" },
      software: currentVersionKeys({
        build: 26100,
        ubr,
        installationType: "Server Core",
        productName: "Windows Server 2025 Datacenter",
      }),
    },
    { files: { "app/app.exe": `MZ ${ubr}` } },
  ],
});

let host: LocalHost;
let registry: RegistryServer;
let dataDir: string;
let layout: string;
const logs: string[] = [];
const images = new Map<string, BuiltImage>();

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), "portcullis-winhost-"));
  host = await startLocalHost(testHostOptions(path.join(dataDir, "host"), logs));
  await writeMsrcTestDb(host.pipeline.blobs);
  registry = await startRegistry({ notifications: hostNotifications(host) });
  layout = path.join(dataDir, "layout");
  await initLayout(layout);
  images.set("below", await writeWindowsImage(layout, "below", serverCore(3775)));
  images.set("fixed", await writeWindowsImage(layout, "fixed", serverCore(4946)));
  images.set("linux", await writeLinuxImage(layout, "linux"));
  const index = await writeImageIndex(layout, "multi", [
    { manifest: images.get("linux")!.manifest, platform: { os: "linux", architecture: "amd64" } },
    {
      manifest: images.get("below")!.manifest,
      platform: { os: "windows", architecture: "amd64", "os.version": "10.0.26100.3775" },
    },
  ]);
  images.set("multi", { manifest: index, layers: [] });
}, 600_000);

afterAll(async () => {
  await registry?.stop();
  await host?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

const digestOf = (name: string) => images.get(name)!.manifest.digest;
const windowsFindings = (r: Report) => r.findings.filter((f) => f.package.ecosystem === "Windows");

describe("Windows images through the pipeline", () => {
  it("blocks a build below the fix at the gate; the report names the product and one base-image action", async () => {
    await pushImage(`oci:${layout}:below`, `${registry.host}/win/app:below`);
    const ref = `${registry.host}/win/app@${digestOf("below")}`;
    const gate = await waitForVerdict(host, ref, { logs });
    expect(gate.status, JSON.stringify(gate.body)).toBe(403);

    const answer = await callApi(host, `/api/images/${registry.host}/win/app/${digestOf("below")}`);
    expect(answer.status).toBe(200);
    const report = answer.body as unknown as Report;
    expect(report.image.platform).toMatchObject({ os: "windows", "os.version": "10.0.26100.3775" });
    expect(report.image.os).toMatchObject({
      family: "windows",
      version: "10.0.26100.3775",
      name: SERVER_CORE_2025,
    });
    expect(report.verdict).toMatchObject({ decision: "block" });
    const windows = windowsFindings(report);
    expect(windows.length).toBeGreaterThan(30);
    expect(windows.find((f) => f.id === "CVE-2025-49751")).toMatchObject({ fixedVersion: FIXED });
    // one base image update fixes them all: every Windows finding carries the same action
    expect(new Set(windows.map((f) => f.remediation))).toEqual(new Set([REMEDIATION]));
  });

  it("lets a build at the fix through", async () => {
    await pushImage(`oci:${layout}:fixed`, `${registry.host}/win/app:fixed`);
    const gate = await waitForVerdict(host, `${registry.host}/win/app@${digestOf("fixed")}`, { logs });
    expect(gate.status, JSON.stringify(gate.body)).toBe(200);
    const answer = await callApi(host, `/api/images/${registry.host}/win/app/${digestOf("fixed")}`);
    const report = answer.body as unknown as Report;
    expect(report.image.os?.name).toBe(SERVER_CORE_2025);
    expect(windowsFindings(report)).toEqual([]);
  });

  it("judges each platform of an index next to a Linux image: Windows blocked, Linux allowed", async () => {
    await pushImage(`oci:${layout}:multi`, `${registry.host}/win/multi:latest`, { all: true });
    const windows = await waitForVerdict(host, `${registry.host}/win/multi@${digestOf("below")}`, { logs });
    expect(windows.status, JSON.stringify(windows.body)).toBe(403);
    const linux = await waitForVerdict(host, `${registry.host}/win/multi@${digestOf("linux")}`, { logs });
    expect(linux.status, JSON.stringify(linux.body)).toBe(200);
  });

  it("blocks the index itself when its Windows platform is blocked", async () => {
    await pushImage(`oci:${layout}:multi`, `${registry.host}/win/indexed:latest`, { all: true });
    // deployments name the index digest: the pipeline scans every platform of it, not only linux/amd64
    const gate = await waitForVerdict(host, `${registry.host}/win/indexed@${digestOf("multi")}`, { logs });
    expect(gate.status, JSON.stringify(gate.body)).toBe(403);
    const body = gate.body as { images: { platform?: { os: string }; decision?: string }[] };
    expect(body.images.map((i) => [i.platform?.os, i.decision]).sort()).toEqual([
      ["linux", "pass"],
      ["windows", "block"],
    ]);
  });
});
