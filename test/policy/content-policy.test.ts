import { describe, expect, it } from "vitest";
import type { ContentFinding } from "../../shared/model/content.js";
import { decide } from "../../shared/policy/decide.js";
import { parsePolicy } from "../../shared/policy/load-policy.js";
import { PolicyError } from "../../shared/policy/policy-error.js";
import { DEFAULT_POLICY } from "../../shared/policy/policy.js";
import { match } from "./match-builder.js";

const at = (iso: string) => new Date(iso);
const image = { repository: "team-a/api", now: at("2025-03-01T00:00:00Z") };

function content(
  fields: Partial<ContentFinding> & Pick<ContentFinding, "rule" | "category" | "path">,
): ContentFinding {
  return {
    confidence: "suspected",
    engines: ["portcullis"],
    layer: "sha256:aa",
    summary: `${fields.rule} in ${fields.path}`,
    evidence: [],
    ...fields,
  };
}

const key = content({ rule: "secret/private-key", category: "secret", path: "/opt/app/test-keys/id_rsa" });
const otherKey = content({ rule: "secret/private-key", category: "secret", path: "/root/.ssh/id_rsa" });
const eicarBoth = content({
  rule: "malware/eicar-test-file",
  category: "malware",
  path: "/tmp/eicar.com",
  confidence: "confirmed",
  engines: ["portcullis", "clamav"],
});
const eicarOne = { ...eicarBoth, confidence: "suspected" as const, engines: ["portcullis"] };
const forged = content({
  rule: "integrity/dpkg-status-version",
  category: "integrity",
  path: "/var/lib/dpkg/status",
});
const cron = content({ rule: "persistence/cron", category: "persistence", path: "/etc/cron.d/x" });

const fact = (...findings: ContentFinding[]) => ({ findings });

describe("content findings in decide()", () => {
  it("by default blocks confirmed malware and integrity mismatches and reports the rest", () => {
    const d = decide([], DEFAULT_POLICY, { ...image, content: fact(eicarBoth, eicarOne, forged, cron, key) });
    expect(d.content?.map((f) => [f.rule, f.confidence, f.tier])).toEqual([
      ["malware/eicar-test-file", "confirmed", "block"],
      ["malware/eicar-test-file", "suspected", "report"],
      ["integrity/dpkg-status-version", "suspected", "block"],
      ["persistence/cron", "suspected", "report"],
      ["secret/private-key", "suspected", "report"],
    ]);
    expect(d.verdict.decision).toBe("block");
    expect(d.verdict.reasons[0]).toBe(
      "block: 2 content findings (malware/integrity: /tmp/eicar.com, /var/lib/dpkg/status)",
    );
    expect(d.verdict.reasons).toContain(
      "report: 3 content findings (malware/persistence/secret: /tmp/eicar.com, /etc/cron.d/x, /opt/app/test-keys/id_rsa)",
    );
  });

  it("takes each category's tier from portcullis.yaml, split by confidence where asked", () => {
    const policy = parsePolicy(`
content:
  tiers:
    secret: fix
    malware: { confirmed: block, suspected: fix }
    integrity: report
`);
    const d = decide([], policy, { ...image, content: fact(eicarOne, forged, key) });
    expect(d.content?.map((f) => f.tier)).toEqual(["fix", "report", "fix"]);
    expect(d.verdict.decision).toBe("fix");
  });

  it("lets a rule's own entry win over its category, and `off` leaves it out with a count", () => {
    const policy = parsePolicy(`
content:
  rules:
    persistence/cron: block
    secret/private-key: "off"
`);
    const d = decide([], policy, { ...image, content: fact(cron, key) });
    expect(d.content?.map((f) => [f.rule, f.tier])).toEqual([["persistence/cron", "block"]]);
    expect(d.verdict.decision).toBe("block");
    expect(d.verdict.reasons).toContain("left out: 1 content finding whose rule is off");
  });

  it("suppresses a content finding by its rule id and path until the risk expires", () => {
    const policy = parsePolicy(`
content:
  tiers: { secret: block }
acceptedRisks:
  - id: secret/private-key
    path: "/opt/app/test-keys/**"
    reason: throwaway keys of the integration tests (SEC-7)
    expires: 2025-06-30
`);
    const before = decide([], policy, { ...image, content: fact(key, otherKey) });
    expect(before.content?.[0]?.suppressed).toEqual({
      kind: "accepted-risk",
      reason: "throwaway keys of the integration tests (SEC-7)",
      expires: "2025-06-30",
    });
    // the same rule elsewhere is not covered: the path narrows the risk
    expect(before.content?.[1]?.suppressed).toBeUndefined();
    expect(before.verdict.reasons).toContain("block: 1 content finding (secret: /root/.ssh/id_rsa)");
    expect(before.verdict.reasons).toContain("suppressed: 1 by accepted risks");

    const onlyTestKey = decide([], policy, { ...image, content: fact(key) });
    expect(onlyTestKey.verdict.decision).toBe("pass");

    const after = decide([], policy, { ...image, now: at("2025-07-01T00:00:00Z"), content: fact(key) });
    expect(after.verdict.decision).toBe("block");
    expect(after.warnings.map((w) => w.code)).toEqual(["accepted-risk-expired"]);
    expect(after.verdict.reasons).toContain("accepted risk for secret/private-key expired 2025-06-30");
  });

  it("never lets a path-scoped risk cover a vulnerability, nor a package-scoped one cover a content finding", () => {
    const policy = parsePolicy(`
acceptedRisks:
  - id: CVE-2024-1000
    path: "/**"
    reason: r
    expires: 2030-01-01
  - id: integrity/dpkg-status-version
    package: dpkg
    reason: r
    expires: 2030-01-01
`);
    const critical = match({ id: "CVE-2024-1000", name: "libssl3", severity: "critical" });
    const d = decide([critical], policy, { ...image, content: fact(forged) });
    expect(d.findings[0]?.suppressed).toBeUndefined();
    expect(d.content?.[0]?.suppressed).toBeUndefined();
    expect(d.verdict.decision).toBe("block");
  });

  it("says in the verdict when clamd could not scan a layer", () => {
    const d = decide([], DEFAULT_POLICY, {
      ...image,
      content: {
        findings: [],
        warnings: [{ code: "clamd-unavailable", message: "refused", layer: "sha256:aa" }],
      },
    });
    expect(d.verdict.decision).toBe("pass");
    expect(d.verdict.reasons).toContain("content: clamd could not scan 1 layer; one engine only");
  });

  it("rejects an unknown category or a malformed rule id with the line", () => {
    expect(() => parsePolicy("content:\n  tiers:\n    miners: block\n")).toThrow(PolicyError);
    expect(() => parsePolicy("content:\n  tiers:\n    miners: block\n")).toThrow(/content\.tiers/);
    expect(() => parsePolicy("content:\n  rules:\n    PRIVATE KEY: block\n")).toThrow(
      /^portcullis\.yaml:3:\d+: content\.rules\.PRIVATE KEY/,
    );
  });
});
