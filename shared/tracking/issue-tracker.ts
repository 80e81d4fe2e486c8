import type { TrackingOctokitClient } from "./github-client.js";
import { TRACKING_LABEL } from "./render-issue.js";

export interface RepoRef {
  owner: string;
  repo: string;
}

/** An issue as tracking reads it back from GitHub. */
export interface GitHubIssue {
  number: number;
  state: "open" | "closed";
  stateReason?: string | null;
  body: string;
  labels: string[];
}

/** The few GitHub calls tracking makes; the Octokit one below, and whatever a bench wants to count. */
export interface IssueTracker {
  /** every issue carrying the tracking label, open and closed */
  listTracked(repo: RepoRef): Promise<GitHubIssue[]>;
  create(
    repo: RepoRef,
    issue: { title: string; body: string; labels: string[]; assignees: string[] },
  ): Promise<GitHubIssue>;
  update(
    repo: RepoRef,
    number: number,
    change: { body?: string; labels?: string[]; state?: "open" | "closed" },
  ): Promise<GitHubIssue>;
  comment(repo: RepoRef, number: number, body: string): Promise<void>;
  /** the bodies of the last comments, newest last (a retry checks whether its comment went out) */
  recentComments(repo: RepoRef, number: number): Promise<string[]>;
  react(repo: RepoRef, commentId: number, content: "+1" | "-1" | "eyes" | "confused"): Promise<void>;
}

/**
 * The same tracker, with `beforeWrite` run before every call that changes GitHub: the local host
 * makes its store durable there, so GitHub never shows a change whose ledger row a power cut lost.
 */
export function withBeforeWrite(tracker: IssueTracker, beforeWrite: () => void): IssueTracker {
  return {
    listTracked: (repo) => tracker.listTracked(repo),
    recentComments: (repo, number) => tracker.recentComments(repo, number),
    create: async (repo, issue) => {
      beforeWrite();
      return tracker.create(repo, issue);
    },
    update: async (repo, number, change) => {
      beforeWrite();
      return tracker.update(repo, number, change);
    },
    comment: async (repo, number, body) => {
      beforeWrite();
      return tracker.comment(repo, number, body);
    },
    react: async (repo, commentId, content) => {
      beforeWrite();
      return tracker.react(repo, commentId, content);
    },
  };
}

/** Status of a failed GitHub call, or 0 when none reached us (refused, reset, timed out). */
export const statusOf = (err: unknown): number => {
  const status = (err as { status?: unknown } | undefined)?.status;
  return typeof status === "number" ? status : 0;
};

/**
 * Whether waiting helps: the network, 5xx, and rate limits (403/429 the plugins already retried)
 * are worth another try later; 401, 404, 410 and 422 are not.
 */
export function isTransientGitHubError(err: unknown): boolean {
  const status = statusOf(err);
  if (status === 0 || status >= 500 || status === 429) return true;
  return status === 403 && /rate limit/i.test(String((err as Error).message));
}

const issueOf = (data: {
  number: number;
  state: string;
  state_reason?: string | null;
  body?: string | null;
  labels: (string | { name?: string })[];
}): GitHubIssue => ({
  number: data.number,
  state: data.state === "closed" ? "closed" : "open",
  stateReason: data.state_reason ?? null,
  body: data.body ?? "",
  labels: data.labels.map((l) => (typeof l === "string" ? l : (l.name ?? ""))).filter(Boolean),
});

/** plugin-retry's per-request switch; the throttling plugin still waits out rate limits (nothing was written then). */
const NOT_RETRIED = { retries: 0 };

export function octokitIssueTracker(
  clientFor: (owner: string, repo: string) => Promise<TrackingOctokitClient>,
): IssueTracker {
  return {
    async listTracked({ owner, repo }) {
      const octokit = await clientFor(owner, repo);
      const issues = await octokit.paginate(octokit.rest.issues.listForRepo, {
        owner,
        repo,
        labels: TRACKING_LABEL,
        state: "all",
        per_page: 100,
      });
      return issues.filter((i) => !("pull_request" in i && i.pull_request)).map(issueOf);
    },
    async create({ owner, repo }, issue) {
      const octokit = await clientFor(owner, repo);
      // never retried blind: a create whose answer was lost may have happened; the stage's next try looks it up by marker
      const { data } = await octokit.rest.issues.create({ owner, repo, ...issue, request: NOT_RETRIED });
      return issueOf(data);
    },
    async update({ owner, repo }, number, change) {
      const octokit = await clientFor(owner, repo);
      const { data } = await octokit.rest.issues.update({
        owner,
        repo,
        issue_number: number,
        ...(change.body !== undefined ? { body: change.body } : {}),
        ...(change.labels !== undefined ? { labels: change.labels } : {}),
        ...(change.state === "closed" ? { state: "closed", state_reason: "completed" } : {}),
        ...(change.state === "open" ? { state: "open", state_reason: "reopened" } : {}),
      });
      return issueOf(data);
    },
    async comment({ owner, repo }, number, body) {
      const octokit = await clientFor(owner, repo);
      // likewise: the stage's next try looks for the comment's change marker before commenting again
      await octokit.rest.issues.createComment({
        owner,
        repo,
        issue_number: number,
        body,
        request: NOT_RETRIED,
      });
    },
    async recentComments({ owner, repo }, number) {
      const octokit = await clientFor(owner, repo);
      const all = await octokit.paginate(octokit.rest.issues.listComments, {
        owner,
        repo,
        issue_number: number,
        per_page: 100,
      });
      return all.slice(-10).map((c) => c.body ?? "");
    },
    async react({ owner, repo }, commentId, content) {
      const octokit = await clientFor(owner, repo);
      await octokit.rest.reactions.createForIssueComment({ owner, repo, comment_id: commentId, content });
    },
  };
}
