import { createHash } from "node:crypto";
import type { RenderedIssue } from "./render-issue.js";

/** What the ledger knows of a stream's issue. */
export interface IssueRecord {
  number: number;
  state: "open" | "closed";
  /** "portcullis": closed because nothing remained; "person": dismissed with findings remaining */
  closedBy?: "portcullis" | "person";
  bodyHash: string;
  labels: readonly string[];
}

export interface LifecycleState {
  issue?: IssueRecord;
  /** keys of the findings that kept the issue open at the last write */
  active: readonly string[];
  /** keys that were open when a person closed the issue: only a key outside them reopens it */
  dismissed: readonly string[];
}

export type IssueOp =
  | { kind: "create"; title: string; body: string; labels: string[] }
  /** one PATCH: body and labels when they changed, and the state when it changes */
  | { kind: "update"; body?: string; labels?: string[]; state?: "open" | "closed" }
  | { kind: "comment"; body: string; change: string };

export interface LifecyclePlan {
  ops: IssueOp[];
  next: LifecycleState;
  /** why, for the log */
  summary: string;
}

export const hashBody = (body: string) => createHash("sha256").update(body).digest("hex").slice(0, 32);

const sameSet = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && [...a].sort().join("\n") === [...b].sort().join("\n");

/**
 * The lifecycle of one stream's issue, as a pure function of what the ledger knows and the new
 * rendering: create when findings appear, edit only when the body or labels changed, one comment
 * per change naming what was introduced and fixed, close (completed) when nothing remains or the
 * stream is gone, reopen when findings return — except that an issue a person closed stays closed
 * until a finding appears that was not there when they closed it.
 */
export function planLifecycle(
  state: LifecycleState,
  rendered: RenderedIssue,
  options: {
    deleted?: boolean;
    /** "What changed in this rescan" (render-verdict-change.ts): rides on the change comment */
    change?: string;
  } = {},
): LifecyclePlan {
  const comment = (headline: string, introduced: readonly string[], fixed: readonly string[]) =>
    changeComment(headline, introduced, fixed, options.change);
  const active = options.deleted ? [] : rendered.active;
  const before = new Set(state.active);
  const now = new Set(active);
  const introduced = active.filter((k) => !before.has(k));
  const fixed = state.active.filter((k) => !now.has(k));
  const bodyHash = hashBody(rendered.body);
  const issue = state.issue;

  if (!issue) {
    if (active.length === 0) return { ops: [], next: { ...state, active: [] }, summary: "nothing to track" };
    return {
      ops: [{ kind: "create", title: rendered.title, body: rendered.body, labels: rendered.labels }],
      // the number is GitHub's to give: the caller records it from the answer
      next: { issue: { number: 0, state: "open", bodyHash, labels: rendered.labels }, active, dismissed: [] },
      summary: `create (${active.length} findings)`,
    };
  }

  const changed = {
    ...(bodyHash !== issue.bodyHash ? { body: rendered.body } : {}),
    ...(!sameSet(rendered.labels, issue.labels) ? { labels: rendered.labels } : {}),
  };
  const record = (next: Partial<IssueRecord>): IssueRecord => ({
    ...issue,
    bodyHash,
    labels: rendered.labels,
    ...next,
  });

  if (issue.state === "closed" && issue.closedBy === "person") {
    const dismissed = new Set(state.dismissed);
    const fresh = active.filter((k) => !dismissed.has(k));
    if (fresh.length === 0)
      // dismissed: no write; what was fixed meanwhile leaves the dismissal, so its return counts as new
      return {
        ops: [],
        next: { ...state, active, dismissed: state.dismissed.filter((k) => now.has(k)) },
        summary: "dismissed by a person, no new finding",
      };
    return {
      ops: [
        { kind: "update", ...changed, state: "open" },
        comment(
          `Reopened: new finding${fresh.length === 1 ? "" : "s"} since the issue was closed.`,
          fresh,
          fixed,
        ),
      ],
      next: { issue: record({ state: "open", closedBy: undefined }), active, dismissed: [] },
      summary: `reopen after dismissal (${fresh.length} new)`,
    };
  }

  if (active.length === 0) {
    if (issue.state === "closed")
      return { ops: [], next: { ...state, active: [] }, summary: "closed, nothing remains" };
    return {
      ops: [
        { kind: "update", ...changed, state: "closed" },
        comment(
          options.deleted ? "The image stream was deleted from the registry." : "All findings are fixed.",
          [],
          fixed,
        ),
      ],
      next: { issue: record({ state: "closed", closedBy: "portcullis" }), active: [], dismissed: [] },
      summary: options.deleted ? "close (stream deleted)" : "close (all fixed)",
    };
  }

  if (issue.state === "closed")
    return {
      ops: [
        { kind: "update", ...changed, state: "open" },
        comment("Reopened: findings are back.", introduced, fixed),
      ],
      next: { issue: record({ state: "open", closedBy: undefined }), active, dismissed: [] },
      summary: `reopen (${introduced.length} introduced)`,
    };

  const ops: IssueOp[] = [];
  if (changed.body !== undefined || changed.labels !== undefined) ops.push({ kind: "update", ...changed });
  if (introduced.length > 0 || fixed.length > 0)
    ops.push(comment("The findings changed.", introduced, fixed));
  // the same findings, shown differently because the verdict changed (a severity, a tier): say why
  else if (changed.body !== undefined && options.change) ops.push(comment("The verdict changed.", [], []));
  return {
    ops,
    next: { issue: record({}), active, dismissed: [] },
    summary: ops.length === 0 ? "unchanged" : `edit (${introduced.length} introduced, ${fixed.length} fixed)`,
  };
}

/** A change comment; its hidden `change` id lets a retry see that it was already posted. */
function changeComment(
  headline: string,
  introduced: readonly string[],
  fixed: readonly string[],
  verdictChange: string | undefined,
): IssueOp {
  const change = hashBody(
    `${headline}\n${introduced.join("\n")}\n--\n${fixed.join("\n")}\n--\n${verdictChange ?? ""}`,
  );
  const list = (keys: readonly string[]) =>
    keys
      .slice(0, 50)
      .map((k) => {
        const [id, pkg] = k.split("|");
        return `\`${(id ?? "").replace(/`/g, "'")}\` (${(pkg ?? "").replace(/[`@#<>]/g, "")})`;
      })
      .join(", ") + (keys.length > 50 ? ` and ${keys.length - 50} more` : "");
  const lines = [changeMarker(change), headline];
  if (introduced.length > 0) lines.push(`- Introduced: ${list(introduced)}`);
  if (fixed.length > 0) lines.push(`- Fixed: ${list(fixed)}`);
  if (verdictChange) lines.push("", verdictChange);
  return { kind: "comment", body: lines.join("\n"), change };
}

export const changeMarker = (change: string) => `<!-- portcullis:change ${change} -->`;
