import { describe, expect, it } from "vitest";
import type { RemediationAction } from "../../shared/model/remediation-action.js";
import { streamOf } from "../../shared/tracking/image-stream.js";
import { GITHUB_BODY_LIMIT, type IssueInput, renderIssue } from "../../shared/tracking/render-issue.js";
import { mergeFindings } from "../../shared/tracking/tracked-findings.js";
import { DEFAULT_TRACKING_CONFIG } from "../../shared/policy/tracking-config.js";
import { finding } from "./findings.js";

const stream = streamOf(
  { registry: "127.0.0.1:5000", repository: "team/app" },
  "latest",
  DEFAULT_TRACKING_CONFIG,
);
const digest = `sha256:${"a".repeat(64)}`;

function input(findings: ReturnType<typeof finding>[], extra: Partial<IssueInput> = {}): IssueInput {
  return {
    stream,
    images: [
      {
        platform: "linux/amd64",
        ref: `127.0.0.1:5000/team/app@${digest}`,
        digest,
        tags: ["latest"],
        verdict: { decision: "block", reasons: ["CVE-2099-0002 in jq (high, fixed in 1.0-2)"] },
      },
    ],
    findings: mergeFindings([{ platform: "linux/amd64", findings }]),
    actions: [],
    threshold: "fix",
    firstSeen: {},
    ...extra,
  };
}

const apt: RemediationAction = {
  kind: "package-upgrade",
  manager: "apt",
  ecosystem: "Debian:12",
  packages: [{ name: "jq", fixedVersion: "1.0-2" }],
  key: "apt",
  title: "Upgrade jq ≥ 1.0-2",
  command: "apt-get update && apt-get install -y --only-upgrade jq",
  findingIds: ["CVE-2099-0002"],
  tier: "block",
};

describe("the rendered tracking issue", () => {
  it("has a stable title, the labels, the marker, the image and the grouped findings", () => {
    const issue = renderIssue(
      input(
        [
          finding("CVE-2099-0002", "jq", { severity: "critical" }),
          finding("CVE-2099-0003", "libjq1", { severity: "medium", tier: "fix", fixed: "" }),
          finding("CVE-2099-0004", "zlib1g", { tier: "report", severity: "low" }),
        ],
        { actions: [apt], firstSeen: { "CVE-2099-0002|jq": "2026-12-01" } },
      ),
    );
    expect(issue.title).toBe("Vulnerable image: 127.0.0.1:5000/team/app");
    expect(issue.labels).toEqual(["portcullis", "security", "severity:critical"]);
    expect(issue.active).toEqual(["CVE-2099-0002|jq", "CVE-2099-0003|libjq1"]);
    expect(issue.body).toContain("<!-- portcullis:stream 127.0.0.1%3A5000%2Fteam%2Fapp -->");
    expect(issue.body).toContain(digest);
    expect(issue.body).toContain("**block**");
    const upgrade = issue.body.indexOf("### Upgrade jq");
    const noFix = issue.body.indexOf("### No fix available yet");
    expect(upgrade).toBeGreaterThan(0);
    expect(noFix).toBeGreaterThan(upgrade);
    expect(issue.body).toContain("apt-get update && apt-get install -y --only-upgrade jq");
    expect(issue.body).toContain("| critical | CVE-2099-0002 | jq | 1.0-1 | 1.0-2 | 2026-12-01 |");
    // below the threshold: not listed, not counted
    expect(issue.body).not.toContain("CVE-2099-0004");
  });

  it("lists an action's findings by severity, whatever order the action names them in", () => {
    const issue = renderIssue(
      input(
        [
          finding("CVE-2099-0010", "jq", { severity: "low" }),
          finding("CVE-2099-0011", "jq", { severity: "critical" }),
          finding("CVE-2099-0012", "jq", { severity: "medium" }),
        ],
        { actions: [{ ...apt, findingIds: ["CVE-2099-0010", "CVE-2099-0012", "CVE-2099-0011"] }] },
      ),
    );
    const rows = issue.body.split("\n").filter((l) => /^\| \w+ \| CVE-2099-001/.test(l));
    expect(rows.map((r) => r.split(" | ")[0])).toEqual(["| critical", "| medium", "| low"]);
  });

  it("lists accepted and suppressed findings apart, with their expiry", () => {
    const issue = renderIssue(
      input([
        finding("CVE-2099-0002", "jq", {
          suppressed: { kind: "accepted-risk", reason: "not reachable", expires: "2099-01-31" },
        }),
      ]),
    );
    expect(issue.active).toEqual([]);
    expect(issue.body).toContain("### Accepted or suppressed");
    expect(issue.body).toContain("| CVE-2099-0002 | jq | accepted-risk | not reachable | 2099-01-31 |");
  });

  it("stays under GitHub's body limit with thousands of findings, saying how many are not shown", () => {
    const many = Array.from({ length: 5000 }, (_, i) =>
      finding(`CVE-2099-${String(i).padStart(5, "0")}`, `package-with-a-long-name-${i}`),
    );
    const issue = renderIssue(input(many, { reportUrl: "https://portcullis.example.test/report" }));
    expect(issue.body.length).toBeLessThanOrEqual(GITHUB_BODY_LIMIT);
    const more =
      /…and (\d+) more findings not shown here: see the \[full report\]\(https:\/\/portcullis\.example\.test\/report\)/.exec(
        issue.body,
      );
    expect(more).not.toBeNull();
    const shown = issue.body.split("\n").filter((l) => l.startsWith("| high | CVE-2099-")).length;
    expect(shown + Number(more![1])).toBe(5000);
    expect(issue.active).toHaveLength(5000);
  });

  it("makes hostile package names inert: no mentions, no HTML, no table breaks", () => {
    const issue = renderIssue(input([finding("CVE-2099-0002", "x|y <img src=x> @everyone #1\n## owned")]));
    const row = issue.body.split("\n").find((l) => l.startsWith("| high | CVE-2099-0002"))!;
    expect(row.split(" | ")).toHaveLength(6);
    expect(row).toContain("x&#124;y &lt;img src=x&gt; &#64;everyone &#35;1 &#35;&#35; owned");
    expect(issue.body).not.toMatch(/<img|@everyone|\n## owned/);
  });

  it("renders the same body twice for the same input (an unchanged rescan is no edit)", () => {
    const findings = [finding("CVE-2099-0002", "jq"), finding("CVE-2099-0001", "curl")];
    expect(renderIssue(input(findings)).body).toBe(renderIssue(input([...findings].reverse())).body);
  });
});
