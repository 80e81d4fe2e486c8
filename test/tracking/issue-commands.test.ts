import { describe, expect, it } from "vitest";
import { parseIssueCommands } from "../../shared/tracking/issue-commands.js";

describe("issue commands", () => {
  const cases: [string, unknown[]][] = [
    ["/portcullis rescan", [{ kind: "rescan" }]],
    ["thanks!\n/portcullis rescan\n", [{ kind: "rescan" }]],
    ["/portcullis accept CVE-2099-0002", [{ kind: "accept", id: "CVE-2099-0002" }]],
    [
      "/portcullis accept CVE-2099-0002 until 2099-01-31 vendor says not reachable",
      [{ kind: "accept", id: "CVE-2099-0002", until: "2099-01-31", reason: "vendor says not reachable" }],
    ],
    [
      "/portcullis accept GHSA-aaaa-bbbb-cccc no network",
      [{ kind: "accept", id: "GHSA-aaaa-bbbb-cccc", reason: "no network" }],
    ],
    ["/portcullis unaccept CVE-2099-0002", [{ kind: "unaccept", id: "CVE-2099-0002" }]],
    [
      "/portcullis accept CVE-1 until tomorrow",
      [{ kind: "invalid", problem: "`until` needs a date as YYYY-MM-DD" }],
    ],
    ["/portcullis accept CVE-1 until 2099-13-45", [{ kind: "invalid" }]],
    ["/portcullis accept", [{ kind: "invalid" }]],
    ["/portcullis accept <script>", [{ kind: "invalid" }]],
    ["/portcullis rescan now", [{ kind: "invalid" }]],
    ["/portcullis deploy", [{ kind: "invalid", problem: "unknown command `deploy`" }]],
    ["/portcullisrescan", []],
    ["please run /portcullis rescan", []],
    ["", []],
  ];
  for (const [body, expected] of cases)
    it(`parses ${JSON.stringify(body)}`, () => {
      const parsed = parseIssueCommands(body);
      expect(parsed).toHaveLength(expected.length);
      for (const [i, c] of parsed.entries()) expect(c).toMatchObject(expected[i] as object);
    });

  it("reads at most ten commands from a flood, and a huge comment in bounded time", () => {
    expect(parseIssueCommands("/portcullis rescan\n".repeat(1000))).toHaveLength(10);
    expect(parseIssueCommands(`/portcullis accept CVE-1 ${"x".repeat(1_000_000)}`)).toHaveLength(1);
  });
});
