import { describe, expect, it } from "vitest";
import type { FindingRef, VerdictDiff, VerdictRecord } from "../../shared/model/messages.js";
import { boundedDiff } from "../../shared/stages/verdict-diff.js";
import { renderVerdictChange } from "../../shared/tracking/render-verdict-change.js";

const IMAGE = { platform: "linux/amd64", digest: `sha256:${"a".repeat(64)}` };
const ref = (id: string, pkg = "libjq1", version = "1.6-2.1"): FindingRef => ({ id, package: pkg, version });
const empty: VerdictDiff = {
  new: [],
  fixed: [],
  unchanged: 3,
  severity: [],
  tier: [],
  accepted: [],
  expired: [],
};
const record = (
  diff: VerdictDiff | undefined,
  cause: VerdictRecord["cause"] = "db-update",
): VerdictRecord => ({
  cause,
  at: "2026-12-05T10:00:00.000Z",
  dbVersion: "2026-12-05.2",
  previous: { at: "2026-12-04T10:00:00.000Z", cause: "push", dbVersion: "2026-12-04.1" },
  ...(diff ? { diff } : {}),
});

describe("What changed in this rescan", () => {
  it("names the cause, the image, the DB and every kind of change", () => {
    const text = renderVerdictChange(
      record({
        ...empty,
        new: [ref("CVE-2099-0003")],
        fixed: [ref("CVE-2099-0001", "demo", "1.0-1")],
        severity: [{ ...ref("CVE-2099-0002"), from: "medium", to: "high" }],
        tier: [{ ...ref("CVE-2099-0002"), from: "report", to: "fix" }],
        accepted: [ref("CVE-2099-0004", "jq")],
        expired: [ref("CVE-2099-0005", "jq")],
        decision: { from: "pass", to: "block" },
      }),
      IMAGE,
    )!;
    expect(text.split("\n")).toEqual([
      "#### What changed in this rescan",
      `Cause: the vulnerability database changed — linux/amd64 \`${IMAGE.digest}\`, DB 2026-12-05.2, compared with the verdict of 2026-12-04T10:00:00.000Z (push).`,
      "- Verdict: **pass** → **block**",
      "- New (1): `CVE-2099-0003` in libjq1 1.6-2.1",
      "- Fixed (1): `CVE-2099-0001` in demo 1.0-1",
      "- Severity changed (1): `CVE-2099-0002` in libjq1 1.6-2.1: medium → high",
      "- Tier changed (1): `CVE-2099-0002` in libjq1 1.6-2.1: report → fix",
      "- Accepted (suppressed now) (1): `CVE-2099-0004` in jq 1.6-2.1",
      "- Acceptance expired (counted again) (1): `CVE-2099-0005` in jq 1.6-2.1",
      "- Unchanged: 3",
    ]);
  });

  it.each([
    ["push", /^#### What changed in this scan\nCause: the image was scanned again/],
    ["command", /^#### What changed in this rescan\nCause: a `\/portcullis rescan`/],
    ["scheduled", /Cause: the scheduled rescan/],
    ["historical", /Cause: a historical rescan/],
    ["analyzer-upgrade", /Cause: an analyzer upgrade/],
  ] as const)("says the cause %s", (cause, said) => {
    expect(renderVerdictChange(record({ ...empty, new: [ref("CVE-1")] }, cause), IMAGE)).toMatch(said);
  });

  it("says nothing for a first verdict or a diff that names nothing", () => {
    expect(renderVerdictChange(undefined, IMAGE)).toBeUndefined();
    expect(renderVerdictChange(record(undefined), IMAGE)).toBeUndefined();
    expect(renderVerdictChange(record(empty), IMAGE)).toBeUndefined();
  });

  it("counts what it does not list, and says when the message's lists were cut", () => {
    const many = Array.from({ length: 500 }, (_, i) => ref(`CVE-2099-${String(i).padStart(4, "0")}`));
    const text = renderVerdictChange(record(boundedDiff({ ...empty, new: many }, 200)), IMAGE)!;
    expect(text).toMatch(/- New \(200\): `CVE-2099-0000`.* and 180 more\n/);
    expect(text).toMatch(/cut short/);
  });

  it("stays bounded and inert with hostile names: no mentions, no HTML, no breaking out of the code span", () => {
    const hostile = (i: number) =>
      ref(`CVE-${i}\`<img src=x>@admin #1`, `pkg|${"x".repeat(5000)}`, `1\n## heading ${"@".repeat(2000)}`);
    const diff: VerdictDiff = {
      ...empty,
      new: Array.from({ length: 200 }, (_, i) => hostile(i)),
      fixed: Array.from({ length: 200 }, (_, i) => hostile(i)),
      severity: Array.from(
        { length: 200 },
        (_, i) => ({ ...hostile(i), from: "low", to: "critical" }) as const,
      ),
      expired: Array.from({ length: 200 }, (_, i) => hostile(i)),
    };
    const text = renderVerdictChange(record(diff), IMAGE)!;
    expect(text.length).toBeLessThanOrEqual(16_000);
    expect(text).not.toMatch(/<img|@admin|admin #1|\n## heading/);
    expect(text).toMatch(/- Unchanged: 3$/);
    for (const title of ["New", "Fixed", "Severity changed", "Acceptance expired"])
      expect(text).toMatch(new RegExp(`- ${title}[^\\n]*\\(200\\): \`CVE-0[^\\n]* and \\d+ more\\n`));
  });
});
