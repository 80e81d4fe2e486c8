import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  parseDomainF,
  parseUserF,
  parseUserV,
  SamRecordError,
} from "../../shared/analysis/audit/windows/sam/sam-records.js";
import type { MisconfigurationMatch } from "../../shared/model/report.js";
import { decide } from "../../shared/policy/decide.js";
import { parsePolicy } from "../../shared/policy/load-policy.js";
import { DEFAULT_POLICY } from "../../shared/policy/policy.js";
import { buildHiveWithHivex } from "../windows/support/hivexregedit.js";
import type { RegKey } from "../windows/support/reg-file.js";
import { auditWindowsLayers } from "./support/audit-hives.js";
import { domainF, userF, userV } from "./support/sam-records.js";

const REG_BINARY = 3;
const ACCOUNT = ["SAM", "Domains", "Account"];
const NORMAL = 0x0010;
const DISABLED = 0x0001;
const bin = (name: string, bytes: Buffer) => ({ name, type: REG_BINARY, bytes });
const user = (rid: number, acb: number, name: string, nt: "none" | "rc4" | "aes"): RegKey => ({
  path: [...ACCOUNT, "Users", rid.toString(16).toUpperCase().padStart(8, "0")],
  values: [bin("F", userF(rid, acb)), bin("V", userV(name, nt))],
});

const WEAK = domainF({ maxAgeDays: 0, minLength: 0, history: 0, lockout: 0 });
const CIS = domainF({ maxAgeDays: 365, minLength: 14, history: 24, lockout: 5 });
const weakSam: RegKey[] = [
  { path: ACCOUNT, values: [bin("F", WEAK)] },
  user(500, NORMAL, "Administrator", "rc4"),
  user(501, NORMAL, "Guest", "none"),
  user(1001, NORMAL, "svc'deploy", "none"),
  user(1002, NORMAL, "alice", "aes"),
  user(1003, NORMAL | DISABLED, "old", "none"),
];
const goodSam: RegKey[] = [
  { path: ACCOUNT, values: [bin("F", CIS)] },
  user(500, NORMAL | DISABLED, "Administrator", "rc4"),
  user(501, NORMAL | DISABLED, "Guest", "none"),
  user(1002, NORMAL, "alice", "aes"),
];

const ctx = { repository: "team-a/win", layers: [], now: new Date("2026-01-01T00:00:00Z") };
const samIds = (list: MisconfigurationMatch[]) => list.filter((m) => /^PCS-WIN-00(1[7-9]|2\d)$/.test(m.id));

describe("SAM records, read to the published layout", () => {
  it("reads the domain F policy fields at the offsets hivexget's raw bytes hold them", () => {
    const { hive } = buildHiveWithHivex("ROOT", [{ path: ACCOUNT, values: [bin("F", CIS)] }]);
    const dir = mkdtempSync(join(tmpdir(), "portcullis-sam-"));
    try {
      writeFileSync(join(dir, "sam"), hive);
      // hivexget is an independent reader: it prints a binary value's bytes as they sit in the hive
      const raw = execFileSync("hivexget", [join(dir, "sam"), "\\SAM\\Domains\\Account", "F"]);
      const bytes = raw.subarray(0, 0xf0);
      expect(bytes.length).toBe(0xf0);
      expect(parseDomainF(bytes)).toEqual({
        minPasswordLength: 14,
        passwordHistory: 24,
        lockoutThreshold: 5,
        maxPasswordAgeDays: 365,
      });
      expect([bytes.readUInt16LE(0x50), bytes.readUInt16LE(0x52), bytes.readUInt16LE(0x54)]).toEqual([
        14, 24, 5,
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("reads RID, account bits, name and whether an NT hash is stored", () => {
    expect(parseUserF(userF(1001, 0x0211))).toEqual({ rid: 1001, acb: 0x0211 });
    expect(parseUserV(userV("Zoë", "none"))).toEqual({ name: "Zoë", blankPassword: true });
    expect(parseUserV(userV("bob", "rc4"))).toEqual({ name: "bob", blankPassword: false });
    expect(parseUserV(userV("carol", "aes"))).toEqual({ name: "carol", blankPassword: false });
  });

  it("refuses truncated and out-of-bounds records with a SamRecordError, never a wild read", () => {
    expect(() => parseDomainF(Buffer.alloc(0x20))).toThrow(SamRecordError);
    expect(() => parseUserF(Buffer.alloc(0x10))).toThrow(SamRecordError);
    expect(() => parseUserV(Buffer.alloc(0x40))).toThrow(SamRecordError);
    const wild = userV("x", "rc4");
    wild.writeUInt32LE(0xfffffff0, 0xa8);
    expect(() => parseUserV(wild)).toThrow(SamRecordError);
    const long = userV("x", "rc4");
    long.writeUInt32LE(0x7fffffff, 0x10);
    expect(() => parseUserV(long)).toThrow(SamRecordError);
  });
});

describe("the SAM audit", () => {
  it("measures the account policy and finds enabled Administrator, Guest and blank passwords", async () => {
    const image = await auditWindowsLayers([
      { files: { "Hives/Sam_Delta": buildHiveWithHivex("ROOT", weakSam).hive } },
    ]);
    const found = samIds(image.misconfigurations);
    const d = decide([], DEFAULT_POLICY, { ...ctx, misconfigurations: found });
    const shown = (d.misconfigurations ?? [])
      .map((m) => `${m.id} ${m.evidence[0]!.found} → ${m.remediation.script}`)
      .sort();
    expect(shown).toEqual([
      "PCS-WIN-0017 minPasswordLength 0 characters → net accounts /minpwlen:14",
      "PCS-WIN-0018 passwordHistory 0 passwords remembered → net accounts /uniquepw:24",
      "PCS-WIN-0019 maxPasswordAgeDays never → net accounts /maxpwage:365",
      "PCS-WIN-0020 lockoutThreshold 0 failed logons → net accounts /lockoutthreshold:5",
      "PCS-WIN-0021 Administrator (RID 500) is enabled → net user 'Administrator' /active:no",
      "PCS-WIN-0022 Guest (RID 501) is enabled → net user 'Guest' /active:no",
      "PCS-WIN-0023 Guest (RID 501) is enabled with no password hash → net user 'Guest' /active:no",
      "PCS-WIN-0023 svc'deploy (RID 1001) is enabled with no password hash → net user 'svc''deploy' /active:no",
    ]);
    expect(d.verdict.decision).toBe("fix");
  }, 120_000);

  it("judges the account policy against the configured baseline", async () => {
    const loose = domainF({ maxAgeDays: 90, minLength: 8, history: 5, lockout: 10 });
    const image = await auditWindowsLayers([
      {
        files: {
          "Hives/Sam_Delta": buildHiveWithHivex("ROOT", [{ path: ACCOUNT, values: [bin("F", loose)] }]).hive,
        },
      },
    ]);
    const found = samIds(image.misconfigurations);
    const ids = (policy: typeof DEFAULT_POLICY) =>
      decide([], policy, { ...ctx, misconfigurations: found }).misconfigurations?.map((m) => m.id);
    expect(ids(DEFAULT_POLICY)).toEqual(["PCS-WIN-0017", "PCS-WIN-0018", "PCS-WIN-0020"]);
    const lenient = parsePolicy(
      "misconfigurations: { accountPolicy: { minPasswordLength: 8, passwordHistory: 5, lockoutThreshold: 10 } }",
    );
    expect(ids(lenient)).toEqual([]);
  }, 120_000);

  it("finds nothing in a SAM set to the baseline with the built-in accounts disabled", async () => {
    const image = await auditWindowsLayers([
      { files: { "Hives/Sam_Delta": buildHiveWithHivex("ROOT", goodSam).hive } },
    ]);
    const d = decide([], DEFAULT_POLICY, { ...ctx, misconfigurations: samIds(image.misconfigurations) });
    expect(d.misconfigurations).toEqual([]);
  }, 120_000);

  it("turns a corrupt F record into a warning and audits the rest", async () => {
    const sam: RegKey[] = [
      { path: ACCOUNT, values: [bin("F", Buffer.alloc(0x20, 0xff))] },
      user(501, NORMAL, "Guest", "rc4"),
    ];
    const image = await auditWindowsLayers([
      { files: { "Hives/Sam_Delta": buildHiveWithHivex("ROOT", sam).hive } },
    ]);
    expect(image.reports[0]!.warnings).toMatchObject([
      { code: "sam-record-corrupt", message: expect.stringContaining("domain F record is 32 bytes") },
    ]);
    expect(samIds(image.misconfigurations).map((m) => m.id)).toEqual(["PCS-WIN-0022"]);
  }, 120_000);
});
