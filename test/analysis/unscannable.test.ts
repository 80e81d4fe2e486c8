import { readFile } from "node:fs/promises";
import { afterEach, describe, expect, it } from "vitest";
import { dispatch } from "../../shared/http/router.js";
import { ReportSchema } from "../../shared/model/report.js";
import { PolicySchema } from "../../shared/policy/policy.js";
import { renderSarif } from "../../shared/report/sarif.js";
import { renderTable } from "../../shared/report/table.js";
import { corpusPath } from "../support/corpus.js";
import { layerBlob } from "./layers.js";
import { REGISTRY } from "../pipeline/fake-registry.js";
import { type MemoryPipeline, memoryPipeline } from "../pipeline/memory-pipeline.js";
import { request } from "../pipeline/notifications.js";

// /etc/os-release of the amazonlinux:2023 image, as Amazon ships it
const AMAZON_LINUX_2023 = `NAME="Amazon Linux"
VERSION="2023"
ID="amzn"
ID_LIKE="fedora"
VERSION_ID="2023"
PLATFORM_ID="platform:al2023"
PRETTY_NAME="Amazon Linux 2023.6.20241212"
ANSI_COLOR="0;33"
CPE_NAME="cpe:2.3:o:amazon:amazon_linux:2023"
HOME_URL="https://aws.amazon.com/linux/amazon-linux-2023/"
SUPPORT_END="2029-06-30"
`;

let pipeline: MemoryPipeline | undefined;
afterEach(async () => {
  await pipeline?.stop();
  pipeline = undefined;
});

// pacman's database version marker (libalpm writes "9"): a package database portcullis has no reader for
const PACMAN_DB = { name: "var/lib/pacman/local/ALPM_DB_VERSION", content: "9\n" };

/** An Amazon Linux 2023-shaped image: its os-release, a real rpm sqlite database (CBL-Mariner's) and `extra`. */
async function amazonLinuxLayers(extra: { name: string; content: string }[] = []) {
  const rpmdb = await readFile(corpusPath("pkgdb/rpm/go-rpmdb/cbl-mariner-2.0/rpmdb.sqlite"));
  return [
    await layerBlob([
      { name: "etc/os-release", content: AMAZON_LINUX_2023 },
      { name: "var/lib/rpm/rpmdb.sqlite", content: rpmdb },
      ...extra,
    ]),
  ];
}

async function scanWith(policy: Record<string, unknown>, extra: { name: string; content: string }[] = []) {
  pipeline = await memoryPipeline({ policy: PolicySchema.parse(policy) });
  pipeline.start();
  const [image] = pipeline.registry.push("team/al2023", "v1", [{ layers: await amazonLinuxLayers(extra) }]);
  const digest = image!.identity.digest;
  const accepted = await dispatch(
    request("POST", "/api/scans", { body: { image: `${REGISTRY}/team/al2023@${digest}` } }),
    pipeline.http,
  );
  expect(accepted.status, JSON.stringify(accepted.body)).toBe(202);
  await pipeline.bus.idle();
  const gate = await dispatch(
    request("GET", `/api/gate?image=${REGISTRY}/team/al2023@${digest}`),
    pipeline.http,
  );
  const stored = await dispatch(
    request("GET", `/api/images/${REGISTRY}/team/al2023/${digest}`),
    pipeline.http,
  );
  expect(stored.status, JSON.stringify(stored.body)).toBe(200);
  const report = ReportSchema.parse(JSON.parse((stored.body as Buffer).toString()));
  return { gate: gate as { status: number; body: { decision: string; reasons: string[] } }, report };
}

describe("an image portcullis cannot read is never a clean pass", () => {
  it("blocks by default: packages listed, the unsupported distribution in the JSON report, the verdict, the gate, the table and SARIF", async () => {
    const { gate, report } = await scanWith({});
    // the rpm database is read, but no advisory source covers Amazon Linux: nothing found must not read as PASS
    expect(report.packages.length).toBeGreaterThan(0);
    expect(report.packages.every((p) => p.ecosystem === "Amazon Linux:2023")).toBe(true);
    expect(report.findings).toEqual([]);
    const codes = report.warnings.map((w) => w.code).filter((c) => /unread|unsupported/.test(c));
    expect(codes).toEqual(["distribution-unsupported"]);
    expect(report.warnings.find((w) => w.code === "distribution-unsupported")?.message).toContain("ID=amzn");

    expect(report.verdict?.decision).toBe("block");
    expect(report.verdict?.reasons[0]).toMatch(
      /^block: image not fully scanned \(policy unscannable\): .*Amazon Linux/,
    );
    expect(gate.status).toBe(403);
    expect(gate.body.reasons.join("\n")).toContain("image not fully scanned");

    const table = renderTable(report, { actions: [], color: false });
    expect(table).toMatch(/BLOCK|block/);
    expect(table).toContain("Amazon Linux 2023.6.20241212");
    expect(table).toContain("not a distribution release OSV publishes advisories for");

    const sarif = renderSarif([report]);
    const notes = sarif.runs[0]!.invocations![0]!.toolExecutionNotifications;
    expect(notes.map((n) => [n.descriptor.id, n.level])).toContainEqual([
      "distribution-unsupported",
      "warning",
    ]);
  });

  it("names a package database no analyzer reads in every output and blocks on it", async () => {
    const { gate, report } = await scanWith({}, [PACMAN_DB]);
    const unread = report.warnings.filter((w) => w.code === "package-db-unread");
    expect(unread.map((w) => w.path)).toEqual([PACMAN_DB.name]);
    expect(report.verdict?.decision).toBe("block");
    expect(report.verdict?.reasons.join("\n")).toMatch(/image not fully scanned.*pacman/);
    expect(gate.status).toBe(403);
    expect(renderTable(report, { actions: [], color: false })).toContain(
      `/${PACMAN_DB.name} is an pacman package database`,
    );
    const notes = renderSarif([report]).runs[0]!.invocations![0]!.toolExecutionNotifications;
    expect(notes.map((n) => [n.descriptor.id, n.level])).toContainEqual(["package-db-unread", "warning"]);
  });

  it("passes with the gap said out loud when the policy makes unscannable `report`", async () => {
    const { gate, report } = await scanWith({ unscannable: "report" });
    expect(report.verdict?.decision).toBe("pass");
    expect(report.verdict?.reasons).toContainEqual(expect.stringMatching(/^report: image not fully scanned/));
    expect(gate.status).toBe(200);
    expect(gate.body.decision).toBe("allow");
    expect(gate.body.reasons).toEqual([expect.stringMatching(/^report: image not fully scanned/)]);
  });

  it("leaves a fully read Debian image without any coverage warning", async () => {
    const { report } = await scanWithDebian();
    expect(report.warnings.filter((w) => /unread|unsupported/.test(w.code))).toEqual([]);
  });
});

async function scanWithDebian() {
  const { debianLayer } = await import("../pipeline/fake-registry.js");
  pipeline = await memoryPipeline();
  pipeline.start();
  const [image] = pipeline.registry.push("team/deb", "v1", [
    { layers: [await debianLayer({ demo: "1.0-1" })] },
  ]);
  const digest = image!.identity.digest;
  await dispatch(
    request("POST", "/api/scans", { body: { image: `${REGISTRY}/team/deb@${digest}` } }),
    pipeline.http,
  );
  await pipeline.bus.idle();
  const stored = await dispatch(request("GET", `/api/images/${REGISTRY}/team/deb/${digest}`), pipeline.http);
  return { report: ReportSchema.parse(JSON.parse((stored.body as Buffer).toString())) };
}
