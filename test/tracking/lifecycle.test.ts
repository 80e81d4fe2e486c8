import { describe, expect, it } from "vitest";
import {
  hashBody,
  type IssueRecord,
  type LifecycleState,
  planLifecycle,
} from "../../shared/tracking/lifecycle.js";
import type { RenderedIssue } from "../../shared/tracking/render-issue.js";

const rendered = (active: string[], body = `body ${active.join(",")}`): RenderedIssue => ({
  title: "Vulnerable image: r/x",
  body,
  labels: ["portcullis", "security", ...(active.length ? ["severity:high"] : [])],
  active,
});
const issue = (r: RenderedIssue, extra: Partial<IssueRecord> = {}): IssueRecord => ({
  number: 7,
  state: "open",
  bodyHash: hashBody(r.body),
  labels: r.labels,
  ...extra,
});
const kinds = (state: LifecycleState, r: RenderedIssue, deleted = false) =>
  planLifecycle(state, r, { deleted }).ops.map((op) =>
    op.kind === "update" ? `update${op.state ? `:${op.state}` : ""}${op.body ? "+body" : ""}` : op.kind,
  );

const A = "CVE-1|jq";
const B = "CVE-2|libjq1";
const C = "CVE-3|curl";

describe("tracking issue lifecycle", () => {
  const cases: {
    name: string;
    state: LifecycleState;
    next: RenderedIssue;
    deleted?: boolean;
    ops: string[];
  }[] = [
    {
      name: "no issue, no findings: nothing",
      state: { active: [], dismissed: [] },
      next: rendered([]),
      ops: [],
    },
    {
      name: "no issue, findings: create",
      state: { active: [], dismissed: [] },
      next: rendered([A]),
      ops: ["create"],
    },
    {
      name: "unchanged rescan: no write",
      state: { issue: issue(rendered([A])), active: [A], dismissed: [] },
      next: rendered([A]),
      ops: [],
    },
    {
      name: "same findings, body changed (new digest): edit, no comment",
      state: { issue: issue(rendered([A])), active: [A], dismissed: [] },
      next: rendered([A], "new digest body"),
      ops: ["update+body"],
    },
    {
      name: "one fixed: edit and one comment",
      state: { issue: issue(rendered([A, B])), active: [A, B], dismissed: [] },
      next: rendered([A]),
      ops: ["update+body", "comment"],
    },
    {
      name: "all fixed: close with a comment",
      state: { issue: issue(rendered([A])), active: [A], dismissed: [] },
      next: rendered([]),
      ops: ["update:closed+body", "comment"],
    },
    {
      name: "stream deleted: close",
      state: { issue: issue(rendered([A])), active: [A], dismissed: [] },
      next: rendered([A]),
      deleted: true,
      ops: ["update:closed", "comment"],
    },
    {
      name: "closed by portcullis, findings back: reopen",
      state: {
        issue: issue(rendered([]), { state: "closed", closedBy: "portcullis" }),
        active: [],
        dismissed: [],
      },
      next: rendered([A]),
      ops: ["update:open+body", "comment"],
    },
    {
      name: "closed by portcullis, still nothing: no write",
      state: {
        issue: issue(rendered([]), { state: "closed", closedBy: "portcullis" }),
        active: [],
        dismissed: [],
      },
      next: rendered([]),
      ops: [],
    },
    {
      name: "dismissed by a person, same findings: stays closed",
      state: {
        issue: issue(rendered([A, B]), { state: "closed", closedBy: "person" }),
        active: [A, B],
        dismissed: [A, B],
      },
      next: rendered([A]),
      ops: [],
    },
    {
      name: "dismissed by a person, a new finding: reopen",
      state: {
        issue: issue(rendered([A]), { state: "closed", closedBy: "person" }),
        active: [A],
        dismissed: [A],
      },
      next: rendered([A, C]),
      ops: ["update:open+body", "comment"],
    },
  ];
  for (const c of cases)
    it(c.name, () => {
      expect(kinds(c.state, c.next, c.deleted)).toEqual(c.ops);
    });

  it("names what was introduced and what was fixed in the comment", () => {
    const plan = planLifecycle(
      { issue: issue(rendered([A, B])), active: [A, B], dismissed: [] },
      rendered([A, C]),
    );
    const comment = plan.ops.find((op) => op.kind === "comment");
    expect(comment?.kind === "comment" && comment.body).toMatch(
      /Introduced: `CVE-3` \(curl\)\n- Fixed: `CVE-2` \(libjq1\)/,
    );
    expect(plan.next.active).toEqual([A, C]);
  });

  it("a finding fixed while dismissed and then back counts as new", () => {
    const dismissed: LifecycleState = {
      issue: issue(rendered([A, B]), { state: "closed", closedBy: "person" }),
      active: [A, B],
      dismissed: [A, B],
    };
    const afterFix = planLifecycle(dismissed, rendered([A]));
    expect(afterFix.ops).toEqual([]);
    expect(afterFix.next.dismissed).toEqual([A]);
    expect(planLifecycle(afterFix.next, rendered([A, B])).ops.map((o) => o.kind)).toEqual([
      "update",
      "comment",
    ]);
  });

  it("records the new body hash and state after a close", () => {
    const plan = planLifecycle({ issue: issue(rendered([A])), active: [A], dismissed: [] }, rendered([]));
    expect(plan.next.issue).toMatchObject({
      state: "closed",
      closedBy: "portcullis",
      bodyHash: hashBody(rendered([]).body),
    });
  });

  describe("with what the verdict changed", () => {
    const change = "#### What changed in this rescan\nCause: the vulnerability database changed";
    const commentOf = (plan: ReturnType<typeof planLifecycle>) =>
      plan.ops.flatMap((op) => (op.kind === "comment" ? [op.body] : []));

    it("rides on the change comment", () => {
      const plan = planLifecycle(
        { issue: issue(rendered([A, B])), active: [A, B], dismissed: [] },
        rendered([A]),
        { change },
      );
      expect(commentOf(plan)).toEqual([expect.stringContaining(`Fixed: \`CVE-2\` (libjq1)\n\n${change}`)]);
    });

    it("gets a comment of its own when the body changed with the same findings (a severity, a tier)", () => {
      const plan = planLifecycle(
        { issue: issue(rendered([A])), active: [A], dismissed: [] },
        rendered([A], "severity changed body"),
        { change },
      );
      expect(plan.ops.map((op) => op.kind)).toEqual(["update", "comment"]);
      expect(commentOf(plan)).toEqual([expect.stringMatching(/The verdict changed\.\n\n#### What changed/)]);
    });

    it("writes nothing when nothing shown changed (a change below the threshold)", () => {
      const plan = planLifecycle({ issue: issue(rendered([A])), active: [A], dismissed: [] }, rendered([A]), {
        change,
      });
      expect(plan.ops).toEqual([]);
    });

    it("stays out of a dismissed issue", () => {
      const closed: LifecycleState = {
        issue: issue(rendered([A]), { state: "closed", closedBy: "person" }),
        active: [A],
        dismissed: [A],
      };
      expect(planLifecycle(closed, rendered([A], "other body"), { change }).ops).toEqual([]);
    });

    it("makes a different comment id, so a retry's look-up finds exactly this comment", () => {
      const state: LifecycleState = { issue: issue(rendered([A, B])), active: [A, B], dismissed: [] };
      const ids = [undefined, change].map((c) =>
        planLifecycle(state, rendered([A]), c ? { change: c } : {}).ops.flatMap((op) =>
          op.kind === "comment" ? [op.change] : [],
        ),
      );
      expect(ids[0]).not.toEqual(ids[1]);
    });
  });
});
