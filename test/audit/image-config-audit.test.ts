import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditImageConfig } from "../../shared/analysis/audit/image-config/image-config-audit.js";
import { auditImage } from "../../shared/analysis/audit/index.js";
import { ANALYZERS } from "../../shared/analysis/registry.js";
import { findSecret } from "../../shared/analysis/audit/image-config/secret-patterns.js";
import { FsBlobStore } from "../../shared/ports/fs-blob-store.js";
import { DEFAULT_POLICY } from "../../shared/policy/policy.js";
import { renderSarif } from "../../shared/report/sarif.js";
import { renderTable } from "../../shared/report/table.js";
import { makeReport } from "../../shared/stages/make-report.js";
import { buildDebianTestImage, type DebianTestImage } from "../support/debian-image.js";
import { inventoryOf, StackedSource } from "./support/stacked-image.js";

// built at run time so no scanner flags this file, and so the test knows exactly what must not leak
const AWS_KEY = ["AKIA", "Q3EGRIT7", "EXAMPLE1"].join("");
const PASSWORD = "correct-horse-battery-staple";
const KEY_BODY = "MIIEowIBAAKCAQEAvM3hZkQ9xYzT1Xq4tRkPbLh8w";
const PRIVATE_KEY = `-----BEGIN RSA PRIVATE KEY-----\n${KEY_BODY}\n-----END RSA PRIVATE KEY-----`;

const GOOD = { User: "10001:10001", Healthcheck: { Test: ["CMD", "/bin/true"] } };

describe("image config checks", () => {
  it.each([
    [{}, "linux", true],
    [{ User: "0" }, "linux", true],
    [{ User: "root:root" }, "linux", true],
    [{ User: "0:1000" }, "linux", true],
    [{ User: "app" }, "linux", false],
    [{ User: "1000:0" }, "linux", false],
    [{}, "windows", true],
    [{ User: "ContainerAdministrator" }, "windows", true],
    [{ User: "ContainerUser" }, "windows", false],
  ])("%j on %s runs as root: %s", (run, os, root) => {
    const found = auditImageConfig({ os, config: { ...run, Healthcheck: GOOD.Healthcheck } }, os);
    expect(found.map((m) => m.id)).toEqual(root ? ["PCS-IMG-0001"] : []);
    if (root)
      expect(found[0]!.remediation.script).toBe(os === "windows" ? "USER ContainerUser" : "USER 10001:10001");
  });

  it("reports a missing or disabled HEALTHCHECK at low severity", () => {
    for (const Healthcheck of [undefined, { Test: ["NONE"] }]) {
      const found = auditImageConfig({ config: { User: "app", Healthcheck } }, "linux");
      expect(found).toMatchObject([{ id: "PCS-IMG-0003", severity: "low" }]);
    }
  });

  it.each([
    [`AWS_ACCESS_KEY_ID=${AWS_KEY}`, "an AWS access key id"],
    [`DB_PASSWORD=${PASSWORD}`, `DB_PASSWORD set (${PASSWORD.length} characters)`],
    [
      `/bin/sh -c #(nop) ENV ADMIN_PASSWORD="${PASSWORD}"`,
      `ADMIN_PASSWORD set (${PASSWORD.length} characters)`,
    ],
    [`TLS_KEY=${PRIVATE_KEY}`, "a private key block"],
    ["DB_PASSWORD=", undefined],
    ["DB_PASSWORD=$DB_PASSWORD", undefined],
    ["DB_PASSWORD_FILE=/run/secrets/db", undefined],
    ["PATH=/usr/local/sbin:/usr/local/bin", undefined],
    ["AKIA-is-not-a-key", undefined],
  ])("%j holds %s", (text, kind) => {
    expect(findSecret(text)).toBe(kind);
  });

  it("says the config checks did not run when there is no config, instead of passing them", () => {
    const audit = auditImage(ANALYZERS, {}, undefined, { skippedLayers: [] });
    expect(audit.misconfigurations).toEqual([]);
    expect(audit.warnings.map((w) => w.code)).toEqual(["image-config-not-audited"]);
  });

  it("survives hostile configs: wrong types, huge lists, huge strings", () => {
    const huge = "A".repeat(5_000_000);
    const weird = [
      { config: "nope", history: 7 },
      { config: { User: 0, Env: [1, null, {}], Labels: [], Healthcheck: { Test: "CMD" } } },
      { config: { Env: Array.from({ length: 200_000 }, (_, i) => `V${i}=x`), Labels: { [huge]: huge } } },
      { history: [{ created_by: huge }, null, "x"] },
    ];
    for (const config of weird) expect(() => auditImageConfig(config, "linux")).not.toThrow();
  });
});

describe("image config checks on the real Debian image", () => {
  let debian: DebianTestImage;
  let dir: string;
  let store: FsBlobStore;
  beforeAll(async () => {
    debian = await buildDebianTestImage();
    dir = await mkdtemp(path.join(tmpdir(), "portcullis-audit-config-"));
    store = new FsBlobStore(dir);
  }, 600_000);
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("has zero misconfigurations when everything is right", async () => {
    const inv = await inventoryOf(new StackedSource(debian, [], { config: GOOD }), store);
    expect(inv.misconfigurations).toEqual([]);
  }, 300_000);

  it("finds secrets in Env, labels and history without printing them in any output format", async () => {
    const config = {
      config: {
        ...GOOD,
        Env: ["PATH=/usr/bin", `AWS_ACCESS_KEY_ID=${AWS_KEY}`],
        Labels: { "org.example.deploy-key": PRIVATE_KEY },
      },
      history: [
        { created_by: "/bin/sh -c #(nop) ADD file:abc in /" },
        { created_by: `/bin/sh -c #(nop)  ENV DB_PASSWORD=${PASSWORD}` },
      ],
    };
    const inv = await inventoryOf(new StackedSource(debian, [], config), store);
    const secret = inv.misconfigurations?.find((m) => m.id === "PCS-IMG-0002");
    expect(secret?.severity).toBe("critical");
    expect(secret?.evidence).toEqual([
      { location: "image config", key: "config.Env[1]", found: "an AWS access key id" },
      {
        location: "image config",
        key: 'config.Labels["org.example.deploy-key"]',
        found: "a private key block",
      },
      {
        location: "image config",
        key: "history[1].created_by",
        found: `DB_PASSWORD set (${PASSWORD.length} characters)`,
      },
    ]);
    const { report, decision } = makeReport(inv, [], undefined, { policy: DEFAULT_POLICY });
    expect(report.verdict?.decision).toBe("block");
    const outputs = {
      inventory: JSON.stringify(inv),
      json: JSON.stringify(report),
      table: renderTable(report, { actions: decision.actions, color: false }),
      sarif: JSON.stringify(renderSarif([report])),
    };
    expect(outputs.table).toContain("PCS-IMG-0002");
    expect(outputs.sarif).toContain("PCS-IMG-0002");
    for (const [format, text] of Object.entries(outputs)) {
      for (const leak of [AWS_KEY, PASSWORD, KEY_BODY])
        expect(text.includes(leak), `${format} leaks`).toBe(false);
    }
  }, 300_000);
});
