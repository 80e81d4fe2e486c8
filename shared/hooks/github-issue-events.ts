import { createEventHandler, type EmitterWebhookEvent } from "@octokit/webhooks";
import { z } from "zod";
import { formatImageRef } from "../model/image-reference.js";
import { type MatchingMessage, messageId, type VerdictMessage } from "../model/messages.js";
import type { BusSender } from "../ports/bus.js";
import type { TableStore } from "../ports/table-store.js";
import { type HeaderBag, headerValue } from "./headers.js";
import { blobKeys } from "../stages/tables.js";
import { acceptRisk, removeRisk } from "../tracking/github-risks.js";
import type { IssueCommand } from "../tracking/issue-commands.js";
import { readStoredImage } from "../tracking/stored-image.js";
import { parseIssueCommands } from "../tracking/issue-commands.js";
import type { IssueTracker, RepoRef } from "../tracking/issue-tracker.js";
import type { TrackingConfig } from "../policy/tracking-config.js";
import { findLedgerByIssue, type LedgerEntry, writeLedger } from "../tracking/tracking-ledger.js";
import type { TrackingSetup } from "../tracking/tracking-setup.js";
import { gitHubDeliverySeen, recordGitHubDelivery } from "./event-claim.js";

/** What the GitHub webhook needs to act on tracking issues. */
export interface GitHubEventDeps {
  tables: TableStore;
  bus: BusSender;
  tracker: IssueTracker;
  config: TrackingConfig;
  now(): Date;
  log(message: string): void;
}

/** The issue events the webhook acts on; every other action of them is acknowledged and ignored. */
export const ISSUE_EVENT_NAMES = new Set(["issues", "issue_comment"]);
const WRITERS = new Set(["OWNER", "MEMBER", "COLLABORATOR"]);
export const RISK_ACCEPTED_LABEL = "risk-accepted";

export interface EventOutcome {
  status: number;
  body: Record<string, unknown>;
}

/**
 * One verified GitHub delivery of an `issues` or `issue_comment` event: a delivery id seen before
 * is answered and nothing done; on a tracked issue, commands from writers are obeyed and
 * acknowledged, everyone else gets a polite reply; a person closing or reopening is recorded.
 */
export async function receiveIssueEvent(
  delivery: { id: string; name: string; payload: unknown },
  deps: GitHubEventDeps,
): Promise<EventOutcome> {
  if (await gitHubDeliverySeen(deps.tables, delivery.id))
    return { status: 200, body: { duplicate: delivery.id } };
  let outcome: EventOutcome = { status: 202, body: { ignored: `${delivery.name}` } };
  const handler = createEventHandler({});
  handler.on("issue_comment.created", async ({ payload }) => {
    outcome = await onComment(payload, delivery.id, deps);
  });
  handler.on("issues.closed", async ({ payload }) => {
    outcome = await onClosedOrReopened(payload, "closed", deps);
  });
  handler.on("issues.reopened", async ({ payload }) => {
    outcome = await onClosedOrReopened(payload, "reopened", deps);
  });
  handler.on("issues.labeled", async ({ payload }) => {
    outcome = await onLabeled(payload, delivery.id, deps);
  });
  await handler.receive({
    id: delivery.id,
    name: delivery.name,
    payload: delivery.payload,
  } as EmitterWebhookEvent);
  // recorded once handled: a delivery that failed half-way is GitHub's to redeliver
  await recordGitHubDelivery(deps.tables, delivery.id, deps.now());
  return outcome;
}

type CommentPayload = EmitterWebhookEvent<"issue_comment.created">["payload"];
type IssuesPayload = EmitterWebhookEvent<"issues.closed">["payload"];
type LabeledPayload = EmitterWebhookEvent<"issues.labeled">["payload"];

const repoOf = (p: { repository: { name: string; owner: { login: string } } }): RepoRef => ({
  owner: p.repository.owner.login,
  repo: p.repository.name,
});

async function onComment(
  payload: CommentPayload,
  deliveryId: string,
  deps: GitHubEventDeps,
): Promise<EventOutcome> {
  const commands = parseIssueCommands(payload.comment.body ?? "");
  if (commands.length === 0 || payload.comment.user?.type === "Bot")
    return { status: 202, body: { ignored: "no command" } };
  const repo = repoOf(payload);
  const tracked = await findLedgerByIssue(deps.tables, { ...repo, number: payload.issue.number });
  if (!tracked) return { status: 202, body: { ignored: "not a tracking issue" } };
  const who = payload.comment.user?.login ?? "someone";
  if (!WRITERS.has(payload.comment.author_association)) {
    await deps.tracker.comment(
      repo,
      payload.issue.number,
      `Thanks, @${who}. Only people with write access to this repository can give portcullis commands; a maintainer can repeat it.`,
    );
    return { status: 202, body: { refused: "no write access" } };
  }
  const done: string[] = [];
  const problems: string[] = [];
  let rescan = false;
  let reverdict = false;
  for (const command of commands) {
    const result = await runCommand(
      command,
      tracked.entry,
      { who, issue: `${repo.owner}/${repo.repo}#${payload.issue.number}` },
      deps,
    );
    if (result.ok) done.push(result.said);
    else problems.push(result.said);
    rescan ||= result.ok && command.kind === "rescan";
    reverdict ||= result.ok && (command.kind === "accept" || command.kind === "unaccept");
  }
  if (reverdict) await requestRescan(tracked.entry, deliveryId, deps, "reverdict");
  else if (rescan) await requestRescan(tracked.entry, deliveryId, deps, "rematch");
  if (problems.length === 0) await deps.tracker.react(repo, payload.comment.id, "+1");
  else {
    await deps.tracker.react(repo, payload.comment.id, "confused");
    await deps.tracker.comment(repo, payload.issue.number, problems.map((p) => `- ${p}`).join("\n"));
  }
  return { status: 202, body: { done, problems } };
}

async function runCommand(
  command: IssueCommand,
  entry: LedgerEntry,
  by: { who: string; issue: string },
  deps: GitHubEventDeps,
): Promise<{ ok: boolean; said: string }> {
  const image = { registry: entry.registry, repository: entry.repository };
  switch (command.kind) {
    case "rescan":
      return { ok: true, said: "rescan requested" };
    case "accept": {
      const expires = command.until ?? addDays(deps.now(), deps.config.acceptDays);
      await acceptRisk(deps.tables, image, {
        id: command.id,
        reason: command.reason ?? "accepted on GitHub",
        expires,
        by: by.who,
        issue: by.issue,
        acceptedAt: deps.now().toISOString(),
      });
      return { ok: true, said: `${command.id} accepted until ${expires}` };
    }
    case "unaccept":
      return (await removeRisk(deps.tables, image, command.id))
        ? { ok: true, said: `${command.id} no longer accepted` }
        : { ok: false, said: `\`${command.id}\` was not an accepted risk here` };
    case "invalid":
      return { ok: false, said: `\`/portcullis ${command.text.replace(/`/g, "'")}\`: ${command.problem}` };
  }
}

async function onClosedOrReopened(
  payload: IssuesPayload | EmitterWebhookEvent<"issues.reopened">["payload"],
  action: "closed" | "reopened",
  deps: GitHubEventDeps,
): Promise<EventOutcome> {
  const repo = repoOf(payload);
  const tracked = await findLedgerByIssue(deps.tables, { ...repo, number: payload.issue.number });
  if (!tracked) return { status: 202, body: { ignored: "not a tracking issue" } };
  // our own close or reopen echoing back: the ledger already says so, or our write is in flight
  const ours =
    tracked.entry.pending !== null || tracked.entry.issueState === (action === "closed" ? "closed" : "open");
  if (ours) return { status: 202, body: { ignored: "portcullis's own change" } };
  const issue = { ...repo, number: payload.issue.number };
  const recorded =
    action === "closed"
      ? await recordPersonClosed(deps.tables, issue, tracked)
      : await recordPersonReopened(deps.tables, issue, tracked);
  deps.log(`tracking ${tracked.key}: issue ${action} by ${payload.sender?.login ?? "a person"}`);
  return { status: 202, body: { recorded } };
}

/** A person closed a tracking issue with findings remaining: they are dismissed until a new one appears. */
export async function recordPersonClosed(
  tables: TableStore,
  issue: RepoRef & { number: number },
  found?: FoundLedger,
): Promise<boolean> {
  return updateByIssue(tables, issue, found, (e) => ({
    ...e,
    issueState: "closed",
    closedBy: "person",
    dismissed: [...e.active],
  }));
}

/** A person reopened it: tracking resumes (the next verdict edits, or closes it when nothing remains). */
export async function recordPersonReopened(
  tables: TableStore,
  issue: RepoRef & { number: number },
  found?: FoundLedger,
): Promise<boolean> {
  return updateByIssue(tables, issue, found, (e) => ({
    ...e,
    issueState: "open",
    closedBy: "",
    dismissed: [],
  }));
}

type FoundLedger = NonNullable<Awaited<ReturnType<typeof findLedgerByIssue>>>;

/** One ETag-guarded change of the issue's row: the row the caller already found, re-read only after a conflict. */
async function updateByIssue(
  tables: TableStore,
  issue: RepoRef & { number: number },
  known: FoundLedger | undefined,
  change: (e: LedgerEntry) => LedgerEntry,
): Promise<boolean> {
  let found = known;
  for (let attempt = 0; attempt < 5; attempt++) {
    found ??= await findLedgerByIssue(tables, issue);
    if (!found) return false;
    if ((await writeLedger(tables, found.key, change(found.entry), found.etag)).ok) return true;
    found = undefined;
  }
  return false;
}

async function onLabeled(
  payload: LabeledPayload,
  deliveryId: string,
  deps: GitHubEventDeps,
): Promise<EventOutcome> {
  if (payload.label?.name !== RISK_ACCEPTED_LABEL)
    return { status: 202, body: { ignored: `label ${payload.label?.name ?? ""}` } };
  const repo = repoOf(payload);
  const tracked = await findLedgerByIssue(deps.tables, { ...repo, number: payload.issue.number });
  if (!tracked) return { status: 202, body: { ignored: "not a tracking issue" } };
  const who = payload.sender?.login ?? "someone";
  const ids = [...new Set(tracked.entry.active.map((k) => k.split("|")[0]!))];
  const expires = addDays(deps.now(), deps.config.acceptDays);
  for (const id of ids)
    await acceptRisk(deps.tables, tracked.entry, {
      id,
      reason: `label ${RISK_ACCEPTED_LABEL}`,
      expires,
      by: who,
      issue: `${repo.owner}/${repo.repo}#${payload.issue.number}`,
      acceptedAt: deps.now().toISOString(),
    });
  await requestRescan(tracked.entry, deliveryId, deps);
  await deps.tracker.comment(
    repo,
    payload.issue.number,
    ids.length === 0
      ? "Nothing to accept: no finding is open on this issue."
      : `Accepted until ${expires}: ${ids.map((i) => `\`${i}\``).join(", ")}. The verdict is being made again.`,
  );
  return { status: 202, body: { accepted: ids, expires } };
}

/**
 * `rescan`: re-match the stream's current images (stored inventory, current DB, no pull). Accepted
 * risks changed: the same matches decided again. Either way the run carries the person's request
 * (`github-<delivery>`), so with an unchanged DB its verdict is still a fresh one, never taken for
 * a duplicate of the last, and the tracking update follows it.
 */
async function requestRescan(
  entry: LedgerEntry,
  deliveryId: string,
  deps: GitHubEventDeps,
  how: "rematch" | "reverdict" = "reverdict",
): Promise<number> {
  let sent = 0;
  const request = `github-${deliveryId}`;
  for (const pointer of Object.values(entry.images)) {
    const row = await readStoredImage(deps.tables, entry, pointer.digest);
    if (!row) continue;
    const { scanId, inventoryKey, dbVersion } = row;
    const image = {
      ref: formatImageRef({ registry: entry.registry, repository: entry.repository, digest: pointer.digest }),
      registry: entry.registry,
      repository: entry.repository,
      digest: pointer.digest,
      tags: row.tags,
      platform: row.platform,
    };
    if (how === "rematch") {
      const body: MatchingMessage = {
        ...{ type: "matching", v: 1, scanId, image, inventoryKey },
        ...{ reason: "rescan", cause: "command", request },
      };
      await deps.bus.send("matching", body, { messageId: messageId("matching", scanId, request) });
    } else {
      const reportKey = blobKeys.matches(scanId, dbVersion);
      const body: VerdictMessage = {
        ...{ type: "verdict", v: 1, scanId, image, inventoryKey, reportKey, dbVersion },
        ...{ cause: "command", request },
      };
      await deps.bus.send("verdict", body, { messageId: messageId("verdict", scanId, request) });
    }
    sent++;
  }
  return sent;
}

function addDays(now: Date, days: number): string {
  return new Date(now.getTime() + days * 86_400_000).toISOString().slice(0, 10);
}

/**
 * The webhook's entry for `issues` and `issue_comment` deliveries whose signature was verified:
 * parses the body, and hands it over when tracking is on (else acknowledges and ignores it).
 */
export async function githubIssueEvent(
  name: string,
  req: { rawBody: Buffer; headers: HeaderBag },
  deps: Omit<GitHubEventDeps, "tracker" | "config"> & { tracking?: TrackingSetup },
): Promise<EventOutcome> {
  if (!deps.tracking) return { status: 202, body: { ignored: "GitHub tracking is not configured" } };
  const id = headerValue(req.headers, "x-github-delivery");
  if (!id || id.length > 100) return { status: 400, body: { error: "missing X-GitHub-Delivery" } };
  let payload: unknown;
  try {
    payload = JSON.parse(req.rawBody.toString("utf8"));
  } catch {
    return { status: 400, body: { error: "the body is not JSON" } };
  }
  const shape = z
    .object({
      action: z.string(),
      issue: z.object({ number: z.number() }),
      repository: z.object({ name: z.string(), owner: z.object({ login: z.string() }) }),
    })
    .safeParse(payload);
  if (!shape.success) return { status: 400, body: { error: `not a GitHub ${name} event` } };
  return receiveIssueEvent(
    { id, name, payload },
    { ...deps, tracker: deps.tracking.tracker, config: deps.tracking.config },
  );
}
