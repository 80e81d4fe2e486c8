import type { z } from "zod";
import { formatPlatform, type ImageIdentity } from "../model/image.js";
import type { VerdictRecord } from "../model/messages.js";
import { InventorySchema, ReportSchema, type Verdict } from "../model/report.js";
import type { BlobStore } from "../ports/blob-store.js";
import type { TableStore } from "../ports/table-store.js";
import { type ImageStream, markerKeyOf, streamOf, streamOfKey } from "./image-stream.js";
import { type GitHubIssue, type IssueTracker, type RepoRef, statusOf } from "./issue-tracker.js";
import { changeMarker, hashBody, type IssueOp, type LifecycleState, planLifecycle } from "./lifecycle.js";
import { chooseTarget, SOURCE_LABEL } from "./target-repository.js";
import { readStoredImage } from "./stored-image.js";
import { renderVerdictChange } from "./render-verdict-change.js";
import { type LoadedImage, renderStreamIssue, reportUrlOf } from "./stream-issue.js";
import type { TrackingConfig } from "../policy/tracking-config.js";
import {
  emptyLedgerEntry,
  type LedgerEntry,
  type LedgerRead,
  ledgerCovers,
  markLedgerCovers,
  readLedger,
  type StreamPointer,
  writeLedger,
} from "./tracking-ledger.js";

export interface TrackingDeps {
  tables: TableStore;
  blobs: BlobStore;
  tracker: IssueTracker;
  config: TrackingConfig;
  /** the GitHub web host image labels are compared with */
  webUrl: string;
  /** the labels of an image's config (for org.opencontainers.image.source) */
  imageLabels(ref: string): Promise<Record<string, string>>;
  now(): Date;
  log(message: string): void;
  /** how long a recorded intent holds off other writers (default two minutes) */
  intentLeaseMs?: number;
}

/** What moved a stream. */
export type StreamEvent =
  | {
      kind: "image";
      image: ImageIdentity;
      at: string;
      /** the tags it was pushed under that belong to this stream */
      tags: readonly string[];
      /** the verdict's cause and diff, when a verdict sent it: the change comment says what changed */
      record?: VerdictRecord;
    }
  /** a manifest left the registry: its digest, and an index's platform images */
  | { kind: "deleted"; digests: readonly string[]; at: string }
  /** a tag was deleted (Distribution 3): the stream no longer points at what only that tag named */
  | { kind: "untagged"; tag: string; at: string }
  /** re-render from what is stored (a command, a rescan, a person reopening) */
  | { kind: "refresh" };

/** Another worker is writing this stream's issue right now: try again shortly. */
export class StreamBusyError extends Error {}

/** How long an intent protects a stream; past it, the writer is taken to have died and is taken over. */
const INTENT_LEASE_MS = 120_000;
const MAX_CONFLICTS = 8;
const MAX_FIRST_SEEN = 400;

/**
 * Brings one stream's GitHub issue in line with the stream's current images. Safe to run twice,
 * concurrently, or again after dying half-way: the ledger row serializes writers on its ETag, the
 * intent recorded before any GitHub call makes a successor check what already happened.
 */
export async function trackStream(
  stream: ImageStream,
  event: StreamEvent,
  deps: TrackingDeps,
): Promise<string> {
  for (let attempt = 0; attempt < MAX_CONFLICTS; attempt++) {
    const outcome = await trackOnce(stream, event, deps);
    if (outcome !== "conflict") return outcome;
  }
  throw new StreamBusyError(`tracking ${stream.key}: the ledger kept changing under us`);
}

async function trackOnce(
  stream: ImageStream,
  event: StreamEvent,
  deps: TrackingDeps,
): Promise<string | "conflict"> {
  const read = await readLedger(deps.tables, stream.key);
  const now = deps.now();
  const entry: LedgerEntry = read ? structuredClone(read.entry) : emptyLedgerEntry(stream);
  const recovering = entry.pending !== null;
  if (
    recovering &&
    now.getTime() - Date.parse(entry.pending!.startedAt) < (deps.intentLeaseMs ?? INTENT_LEASE_MS)
  )
    throw new StreamBusyError(
      `tracking ${stream.key}: another worker is writing (${entry.pending!.summary})`,
    );

  await applyEvent(entry, event, deps, stream);
  // a row rebuilt from its issue knows no image yet: only a push or a verdict can say what to show
  if (Object.keys(entry.images).length === 0 && !entry.deleted && event.kind !== "image")
    return "no image known yet: left as it is";
  const images = await loadImages(stream, entry, deps);
  const source = Object.values(entry.images).find((p) => p.source)?.source;
  const choice = chooseTarget(
    {
      registry: stream.registry,
      repository: stream.repository,
      ...(source ? { labels: { [SOURCE_LABEL]: source } } : {}),
    },
    deps.config,
    deps.webUrl,
  );
  if (!choice.tracked && !entry.owner) {
    entry.untracked = choice.reason;
    entry.updatedAt = now.toISOString();
    return (await save(deps, stream.key, entry, read)) ? `untracked: ${choice.reason}` : "conflict";
  }
  // an issue, once placed, stays in its repository
  if (!entry.owner && choice.tracked)
    Object.assign(entry, { owner: choice.target.owner, repo: choice.target.repo, untracked: "" });
  const target = choice.tracked ? choice.target : undefined;
  const repo: RepoRef = { owner: entry.owner, repo: entry.repo };

  let listed: GitHubIssue[] | undefined;
  let rebuilt = entry.rebuilt === true;
  delete entry.rebuilt;
  const lostOrNew = !read && !(await ledgerCovers(deps.tables, repo));
  if (lostOrNew || (read?.entry.lastError && read.entry.issueNumber === 0)) {
    // no ledger row and no sign the ledger was rebuilt (a lost ledger), or a row written while GitHub was away: GitHub's issues are the backup
    listed = await deps.tracker.listTracked(repo);
    const found = adoptable(listed, stream.key);
    if (found) {
      adopt(entry, found);
      rebuilt = true;
      deps.log(`tracking ${stream.key}: ledger rebuilt from issue #${found.number}`);
    }
    await seedLedger(listed, stream.key, repo, deps);
    await markLedgerCovers(deps.tables, repo, now);
  }

  const threshold = target?.threshold ?? deps.config.threshold;
  const { rendered, firstSeen } = renderStreamIssue(stream, images, {
    threshold,
    labels: target?.labels ?? [],
    firstSeen: entry.firstSeen,
    today: now.toISOString().slice(0, 10),
    maxFirstSeen: MAX_FIRST_SEEN,
    ...(deps.config.reportUrl && images[0]
      ? { reportUrl: reportUrlOf(deps.config.reportUrl, stream, images[0].image.digest) }
      : {}),
  });
  entry.firstSeen = firstSeen;
  const state: LifecycleState = {
    ...(entry.issueNumber > 0
      ? {
          issue: {
            number: entry.issueNumber,
            state: entry.issueState === "closed" ? "closed" : "open",
            ...(entry.closedBy ? { closedBy: entry.closedBy } : {}),
            bodyHash: entry.bodyHash,
            labels: entry.labels,
          },
        }
      : {}),
    // after a rebuild the last comment's view is unknown: what is there now is the baseline
    active: rebuilt ? rendered.active : entry.active,
    dismissed: rebuilt && entry.closedBy === "person" ? rendered.active : entry.dismissed,
  };
  const change = verdictChangeOf(event, entry);
  const plan = planLifecycle(state, rendered, { deleted: entry.deleted, ...(change ? { change } : {}) });

  if (plan.ops.length === 0) {
    Object.assign(entry, {
      active: plan.next.active,
      dismissed: plan.next.dismissed,
      updatedAt: now.toISOString(),
      lastError: "",
    });
    if (read && JSON.stringify(entry) === JSON.stringify({ ...read.entry, updatedAt: entry.updatedAt }))
      return plan.summary;
    return (await save(deps, stream.key, entry, read)) ? plan.summary : "conflict";
  }

  // the intent first: a crash from here on leaves a marker that makes the next attempt look before it writes
  const intent = {
    ...entry,
    pending: { startedAt: now.toISOString(), summary: plan.summary },
    updatedAt: now.toISOString(),
  };
  const intentWrite = await writeLedger(deps.tables, stream.key, intent, read?.etag);
  if (!intentWrite.ok) return "conflict";

  let issue = state.issue ? { number: state.issue.number } : undefined;
  try {
    for (const op of plan.ops)
      issue = await runOp(
        op,
        repo,
        issue,
        { recovering, listed, key: stream.key, assignees: target?.assignees ?? [] },
        deps,
      );
  } catch (err) {
    const status = statusOf(err);
    if (!issue || (status !== 404 && status !== 410)) throw err;
    // the issue was deleted or transferred: forget it, and the next round creates a new one
    deps.log(`tracking ${stream.key}: issue #${issue.number} is gone (${status}); a new one will be opened`);
    const forgotten = {
      ...entry,
      issueNumber: 0,
      issueState: "none" as const,
      closedBy: "" as const,
      bodyHash: "",
      labels: [],
      active: [],
      dismissed: [],
      pending: null,
    };
    await writeLedger(deps.tables, stream.key, forgotten, intentWrite.etag);
    return "conflict";
  }

  const done: LedgerEntry = {
    ...entry,
    issueNumber: issue?.number ?? 0,
    issueState: plan.next.issue?.state ?? "none",
    closedBy: plan.next.issue?.closedBy ?? "",
    bodyHash: plan.next.issue?.bodyHash ?? hashBody(rendered.body),
    labels: plan.next.issue ? [...plan.next.issue.labels] : rendered.labels,
    active: [...plan.next.active],
    dismissed: [...plan.next.dismissed],
    pending: null,
    lastError: "",
    updatedAt: deps.now().toISOString(),
  };
  const final = await writeLedger(deps.tables, stream.key, done, intentWrite.etag);
  if (!final.ok) return "conflict";
  return `${plan.summary} → ${repo.owner}/${repo.repo}#${done.issueNumber}`;
}

async function runOp(
  op: IssueOp,
  repo: RepoRef,
  issue: { number: number } | undefined,
  ctx: { recovering: boolean; listed: GitHubIssue[] | undefined; key: string; assignees: string[] },
  deps: TrackingDeps,
): Promise<{ number: number } | undefined> {
  switch (op.kind) {
    case "create": {
      // a run that died after its intent may have created the issue without recording it: look it up by its marker
      // (a new stream of a repository the ledger covers has nothing to find)
      const issues = ctx.listed ?? (ctx.recovering ? await deps.tracker.listTracked(repo) : []);
      const existing = adoptable(issues, ctx.key);
      if (existing) {
        await deps.tracker.update(repo, existing.number, { body: op.body, labels: op.labels, state: "open" });
        return { number: existing.number };
      }
      const created = await deps.tracker.create(repo, {
        title: op.title,
        body: op.body,
        labels: op.labels,
        assignees: ctx.assignees,
      });
      return { number: created.number };
    }
    case "update":
      await deps.tracker.update(repo, issue!.number, {
        ...(op.body !== undefined ? { body: op.body } : {}),
        ...(op.labels !== undefined ? { labels: op.labels } : {}),
        ...(op.state !== undefined ? { state: op.state } : {}),
      });
      return issue;
    case "comment": {
      if (ctx.recovering) {
        const recent = await deps.tracker.recentComments(repo, issue!.number);
        if (recent.some((c) => c.includes(changeMarker(op.change)))) return issue;
      }
      await deps.tracker.comment(repo, issue!.number, op.body);
      return issue;
    }
  }
}

/** What the event's verdict changed, when the stream shows that image (a rescan of an older digest changes nothing shown). */
function verdictChangeOf(event: StreamEvent, entry: LedgerEntry): string | undefined {
  if (event.kind !== "image" || !event.record) return undefined;
  const platform = formatPlatform(event.image.platform);
  if (entry.images[platform]?.digest !== event.image.digest) return undefined;
  return renderVerdictChange(event.record, { platform, digest: event.image.digest });
}

/**
 * The rows of the repository's other streams, from their issues' markers (a row already there is
 * kept): once the ledger says it covers the repository, no stream looks its issue up again.
 */
async function seedLedger(
  issues: readonly GitHubIssue[],
  except: string,
  repo: RepoRef,
  deps: TrackingDeps,
): Promise<void> {
  const keys = new Set(issues.map((i) => markerKeyOf(i.body)).filter((k) => k !== undefined && k !== except));
  for (const key of keys) {
    const other = streamOfKey(key!);
    const issue = adoptable(issues, key!);
    if (!other || !issue) continue;
    const entry = { ...emptyLedgerEntry(other), owner: repo.owner, repo: repo.repo, rebuilt: true };
    adopt(entry, issue);
    entry.updatedAt = deps.now().toISOString();
    await writeLedger(deps.tables, key!, entry, undefined);
  }
}

/** The issue carrying this stream's marker; the oldest when several do. */
function adoptable(issues: readonly GitHubIssue[], key: string): GitHubIssue | undefined {
  return issues.filter((i) => markerKeyOf(i.body) === key).sort((a, b) => a.number - b.number)[0];
}

function adopt(entry: LedgerEntry, issue: GitHubIssue): void {
  entry.issueNumber = issue.number;
  entry.issueState = issue.state;
  // portcullis closes as "completed"; any other reason was a person's dismissal
  entry.closedBy =
    issue.state === "closed" ? (issue.stateReason === "completed" ? "portcullis" : "person") : "";
  entry.bodyHash = hashBody(issue.body);
  entry.labels = issue.labels;
}

/**
 * GitHub stayed unreachable past every try: the move the message asked for is kept on the stream's
 * row with the reason, so the image API shows why the issue lags and the stream's next message
 * writes the issue from the right images.
 */
export async function recordGivenUp(
  stream: ImageStream,
  event: StreamEvent,
  why: string,
  deps: TrackingDeps,
): Promise<void> {
  for (let attempt = 0; attempt < MAX_CONFLICTS; attempt++) {
    const read = await readLedger(deps.tables, stream.key);
    const entry = read ? structuredClone(read.entry) : emptyLedgerEntry(stream);
    await applyEvent(entry, event, deps, stream);
    Object.assign(entry, { lastError: why.slice(0, 1000), updatedAt: deps.now().toISOString() });
    if (await save(deps, stream.key, entry, read)) return;
  }
}

async function save(
  deps: TrackingDeps,
  key: string,
  entry: LedgerEntry,
  read: LedgerRead | undefined,
): Promise<boolean> {
  return (await writeLedger(deps.tables, key, entry, read?.etag)).ok;
}

/** Moves the stream's pointer: a newer push wins; an older one (a rescan of an old digest) does not. */
async function applyEvent(
  entry: LedgerEntry,
  event: StreamEvent,
  deps: TrackingDeps,
  stream: ImageStream,
): Promise<void> {
  if (event.kind === "refresh") return;
  if (event.kind === "deleted" || event.kind === "untagged") {
    const before = Object.keys(entry.images).length;
    for (const [platform, pointer] of Object.entries(entry.images)) {
      if (event.kind === "deleted") {
        if (event.digests.includes(pointer.digest)) delete entry.images[platform];
        continue;
      }
      // the tag was pushed again after this delete: the image it names now stays
      if (Date.parse(pointer.at) > Date.parse(event.at)) continue;
      const tags = await tagsOf(pointer, stream, deps);
      if (!tags.includes(event.tag)) continue;
      const left = tags.filter((t) => t !== event.tag);
      if (left.length === 0) delete entry.images[platform];
      else pointer.tags = left;
    }
    // the stream ends when none of the images it pointed at remain
    if (before > 0 && Object.keys(entry.images).length === 0) entry.deleted = true;
    return;
  }
  const platform = formatPlatform(event.image.platform);
  const current = entry.images[platform];
  if (current?.digest === event.image.digest) {
    // the same image under one more of the stream's tags: a delete of the other one leaves it in place
    const known = await tagsOf(current, stream, deps);
    current.tags = [...new Set([...known, ...event.tags])].sort();
    return;
  }
  if (current && Date.parse(current.at) > Date.parse(event.at)) return;
  let source = "";
  try {
    source = (await deps.imageLabels(event.image.ref))[SOURCE_LABEL] ?? "";
  } catch (err) {
    deps.log(
      `tracking: labels of ${event.image.ref} not readable (${(err as Error).message}); using the mapping`,
    );
  }
  entry.images[platform] = { digest: event.image.digest, at: event.at, source, tags: [...event.tags].sort() };
  entry.deleted = false;
}

/** The stream's tags naming a pointer's image; a row from before tags were kept asks the images table. */
async function tagsOf(pointer: StreamPointer, stream: ImageStream, deps: TrackingDeps): Promise<string[]> {
  if (pointer.tags) return pointer.tags;
  const stored = (await readStoredImage(deps.tables, stream, pointer.digest))?.tags ?? [];
  return stored.filter((tag) => streamOf(stream, tag, deps.config).key === stream.key);
}

/** The stored verdict and report of each image the stream points at (never a re-scan). */
async function loadImages(
  stream: ImageStream,
  entry: LedgerEntry,
  deps: TrackingDeps,
): Promise<LoadedImage[]> {
  const out: LoadedImage[] = [];
  for (const [platform, pointer] of Object.entries(entry.images).sort(([a], [b]) => a.localeCompare(b))) {
    const ref = `${stream.registry}/${stream.repository}@${pointer.digest}`;
    const row = await readStoredImage(deps.tables, stream, pointer.digest);
    const unreadable = (why: string): LoadedImage => ({
      image: { platform, ref, digest: pointer.digest, tags: [], verdict: { decision: "pass", reasons: [] } },
      findings: [],
      layers: [],
      problems: [`${ref}: ${why}; its findings are not shown`],
    });
    if (!row) {
      out.push(unreadable("no stored verdict"));
      continue;
    }
    const report = await readJson(deps.blobs, row.reportKey, ReportSchema);
    if (!report) {
      out.push(unreadable("the stored report could not be read"));
      continue;
    }
    const inventory = row.inventoryKey
      ? await readJson(deps.blobs, row.inventoryKey, InventorySchema)
      : undefined;
    const decision = row.decision === "block" || row.decision === "fix" ? row.decision : "pass";
    const verdict: Verdict = report.verdict ?? { decision, reasons: row.reasons };
    out.push({
      image: { platform, ref, digest: pointer.digest, tags: report.image.tags, verdict },
      findings: report.findings,
      layers: inventory?.layers ?? [],
      problems: [],
    });
  }
  return out;
}

async function readJson<T extends z.ZodType>(
  blobs: BlobStore,
  key: string,
  schema: T,
): Promise<z.infer<T> | undefined> {
  // a storage error propagates (the message is retried): only a missing or unreadable blob is "unreadable"
  const bytes = await blobs.get(key);
  if (!bytes) return undefined;
  try {
    const parsed = schema.safeParse(JSON.parse(bytes.toString("utf8")));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
