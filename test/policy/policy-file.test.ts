import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Severity } from "../../shared/model/report.js";
import type { Tier } from "../../shared/model/tier.js";
import {
  loadPolicy,
  loadPolicyFile,
  MAX_POLICY_BYTES,
  parsePolicy,
} from "../../shared/policy/load-policy.js";
import { DEFAULT_POLICY, type Policy } from "../../shared/policy/policy.js";
import { PolicyError } from "../../shared/policy/policy-error.js";
import { type PolicyImage, TierRules } from "../../shared/policy/tier.js";
import { match } from "./match-builder.js";

const FIXTURES = fileURLToPath(new URL("../fixtures/policy/", import.meta.url));
const TEAM_A: PolicyImage = { repository: "team-a/api", registry: "registry.example.com" };

const tierOf = (policy: Policy, m = match(), image = TEAM_A): Tier =>
  new TierRules(policy).tierOf(m, image).tier;

function policyError(fn: () => unknown): PolicyError {
  try {
    fn();
  } catch (err) {
    if (err instanceof PolicyError) return err;
    throw err;
  }
  throw new Error("expected a PolicyError");
}

describe("default policy", () => {
  it.each<[Severity, boolean, Tier]>([
    ["critical", true, "block"],
    ["high", true, "block"],
    ["medium", true, "fix"],
    ["low", true, "report"],
    ["unknown", true, "fix"],
    ["critical", false, "report"],
    ["high", false, "report"],
    ["medium", false, "report"],
    ["low", false, "report"],
  ])("puts a %s finding (fix available: %s) at %s tier", (severity, fixed, tier) => {
    const m = match({ severity, ...(fixed ? {} : { fixedVersion: undefined }) });
    expect(tierOf(DEFAULT_POLICY, m)).toBe(tier);
  });

  it("is what an empty or absent file gives", async () => {
    expect(parsePolicy("")).toEqual(DEFAULT_POLICY);
    expect(parsePolicy("# nothing but a comment\n")).toEqual(DEFAULT_POLICY);
    const dir = await mkdtemp(join(tmpdir(), "portcullis-policy-"));
    try {
      const loaded = await loadPolicy({ cwd: dir });
      expect(loaded.source).toBeUndefined();
      expect(loaded.policy).toEqual(DEFAULT_POLICY);
    } finally {
      await rm(dir, { recursive: true });
    }
  });
});

describe("custom rules", () => {
  const policy = parsePolicy(`
rules:
  - { name: prod, repository: ["prod/**"], severity: [critical, high, medium], tier: block }
  - { name: xz, id: CVE-2024-3094, tier: block }
  - { name: npm-unfixed-critical, ecosystem: npm, severity: critical, fix: unfixed, tier: fix }
  - { name: debian-fixed, ecosystem: Debian, fix: fixed, tier: fix }
  - { name: bookworm-only, ecosystem: "Debian:12", tier: report }
  - { name: any-critical, severity: critical, tier: block }
defaultTier: report
`);

  it.each<[string, Parameters<typeof match>[0], PolicyImage, Tier, string | undefined]>([
    ["a repository glob matches first", { severity: "medium" }, { repository: "prod/web" }, "block", "prod"],
    ["a glob may name registry/repository", { severity: "low" }, TEAM_A, "fix", "debian-fixed"],
    [
      "an id rule matches through an alias",
      { aliases: ["CVE-2024-3094"], severity: "low" },
      TEAM_A,
      "block",
      "xz",
    ],
    [
      "fix state unfixed",
      { ecosystem: "npm", name: "lodash", severity: "critical", fixedVersion: undefined },
      TEAM_A,
      "fix",
      "npm-unfixed-critical",
    ],
    [
      "an ecosystem prefix matches the release",
      { ecosystem: "Debian:11", severity: "low" },
      TEAM_A,
      "fix",
      "debian-fixed",
    ],
    [
      "an exact release does not match another",
      { ecosystem: "Debian:11", severity: "critical", fixedVersion: undefined },
      TEAM_A,
      "block",
      "any-critical",
    ],
    ["first match wins over a later stricter rule", { severity: "critical" }, TEAM_A, "fix", "debian-fixed"],
    [
      "no rule matching falls to defaultTier",
      { ecosystem: "PyPI", name: "jinja2", severity: "high" },
      TEAM_A,
      "report",
      undefined,
    ],
  ])("%s", (_title, overrides, image, tier, ruleName) => {
    const decision = new TierRules(policy).tierOf(match(overrides), image);
    expect(decision.tier).toBe(tier);
    expect(decision.rule?.name).toBe(ruleName);
  });

  it("matches a registry-qualified glob against registry/repository", () => {
    const p = parsePolicy(`rules: [{ repository: "registry.example.com/team-a/*", tier: block }]`);
    expect(tierOf(p, match(), TEAM_A)).toBe("block");
    expect(tierOf(p, match(), { repository: "team-a/api", registry: "docker.io" })).toBe("report");
  });

  it("reads the documented example policy", async () => {
    const { policy: p, baseDir } = await loadPolicy({ cwd: FIXTURES });
    expect(baseDir).toBe(FIXTURES.replace(/\/$/, ""));
    expect(p.rules).toHaveLength(5);
    expect(p.rules?.[3]?.severity).toEqual(["medium"]);
    expect(p.acceptedRisks[0]).toMatchObject({
      id: "CVE-2023-4911",
      package: "glibc",
      repository: ["team-a/**"],
    });
    expect(p.limits?.maxLayerBytes).toBe(4294967296);
    expect(p.limits?.maxFileBytes).toBe(64 * 1024 ** 2);
  });

  it("reads a single severity as a threshold and a list as exactly those", () => {
    expect(parsePolicy("severity: medium").severity).toEqual(["critical", "high", "medium"]);
    expect(parsePolicy("severity: [low, critical]").severity).toEqual(["low", "critical"]);
  });
});

describe("invalid policies", () => {
  it("names an unknown key, its line and the key meant", () => {
    const err = policyError(() => parsePolicy("ignoreUnfix: true\n", "portcullis.yaml"));
    expect(err.code).toBe("policy-invalid");
    expect(err.message).toBe(
      'portcullis.yaml:1:1: ignoreUnfix: unknown key "ignoreUnfix" (did you mean "ignoreUnfixed"?)',
    );
  });

  it("locates a misspelt key inside a rule", async () => {
    const err = await loadPolicyFile(join(FIXTURES, "typo.yaml")).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(PolicyError);
    const issues = (err as PolicyError).issues;
    expect(issues).toContainEqual(expect.objectContaining({ path: "rules[1].sevrity", line: 6, column: 5 }));
    expect(issues.find((i) => i.path === "rules[1].sevrity")?.message).toContain('did you mean "severity"');
  });

  it.each([
    ["an unknown severity", "rules:\n  - severity: [critcal]\n    tier: block\n", "rules[0].severity[0]", 2],
    ["an unknown tier", "rules:\n  - tier: blocker\n", "rules[0].tier", 2],
    ["a missing tier", "rules:\n  - severity: [high]\n", "rules[0].tier", 2],
    ["a bad fix state", "rules:\n  - fix: yes\n    tier: fix\n", "rules[0].fix", 2],
    [
      "a bad expiry",
      "acceptedRisks:\n  - id: CVE-1\n    reason: r\n    expires: soon\n",
      "acceptedRisks[0].expires",
      4,
    ],
    [
      "a risk without a reason",
      "acceptedRisks:\n  - id: CVE-1\n    expires: 2030-01-01\n",
      "acceptedRisks[0].reason",
      2,
    ],
    ["an unknown limit", "limits:\n  maxLayerByte: 5\n", "limits.maxLayerByte", 2],
  ])("rejects %s", (_title, yaml, path, line) => {
    const err = policyError(() => parsePolicy(yaml));
    expect(err.issues[0]).toMatchObject({ path, line });
    expect(err.message).toContain(path);
  });

  it("reports invalid YAML with its line", () => {
    const err = policyError(() => parsePolicy("rules:\n  - tier: block\n  severity: [high\n"));
    expect(err.message).toMatch(/^portcullis\.yaml:\d+:\d+: invalid YAML/);
  });

  it("rejects a duplicated key instead of keeping the last one", () => {
    const err = policyError(() => parsePolicy("ignoreUnfixed: true\nignoreUnfixed: false\n"));
    expect(err.issues[0]).toMatchObject({ line: 2 });
  });

  it("rejects a document that is not a mapping", () => {
    expect(policyError(() => parsePolicy("- block\n")).message).toContain("expected object");
  });
});

describe("hostile policy files", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "portcullis-policy-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true });
  });

  it("refuses a 10 MB policy file before reading it", async () => {
    const path = join(dir, "portcullis.yaml");
    await writeFile(
      path,
      `rules:\n${"  - { severity: [high], tier: block }\n".repeat((10 * 1024 ** 2) / 38)}`,
    );
    await expect(loadPolicyFile(path)).rejects.toThrow(/larger than the 1048576 byte limit/);
  });

  it("refuses an oversized policy given as text", () => {
    expect(() => parsePolicy("#".repeat(MAX_POLICY_BYTES + 1))).toThrow(PolicyError);
  });

  it("stops a billion-laughs alias bomb", async () => {
    await expect(loadPolicyFile(join(FIXTURES, "billion-laughs.yaml"))).rejects.toThrow(
      /resource exhaustion/,
    );
  });

  it("still allows a few anchors for shared lists", () => {
    const p = parsePolicy(
      "rules:\n  - { repository: &prod [prod/**, live/**], severity: [critical], tier: block }\n  - { repository: *prod, tier: fix }\n",
    );
    expect(p.rules?.[1]?.repository).toEqual(["prod/**", "live/**"]);
  });
});
