import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { Finding } from "../../shared/model/report.js";
import { FsBlobStore } from "../../shared/ports/fs-blob-store.js";
import { blobKeys } from "../../shared/stages/tables.js";
import { boundedDiff, diffVerdicts, type FindingState } from "../../shared/stages/verdict-diff.js";
import {
  planVerdictRecord,
  verdictFindings,
  verdictFindingsFromBytes,
  readRescanFailure,
  readVerdictRecord,
  recordRescanFailure,
  recordVerdict,
} from "../../shared/stages/verdict-history.js";

const state = (id: string, over: Partial<FindingState> = {}): FindingState => ({
  id,
  package: "openssl",
  version: "3.0.11-1",
  severity: "high",
  tier: "block",
  suppressed: false,
  ...over,
});
const ref = (id: string) => ({ id, package: "openssl", version: "3.0.11-1" });

describe("verdict diffs", () => {
  const cases: {
    name: string;
    before: FindingState[];
    after: FindingState[];
    expected: Partial<ReturnType<typeof diffVerdicts>>;
  }[] = [
    {
      name: "a first finding is new",
      before: [],
      after: [state("CVE-1")],
      expected: { new: [ref("CVE-1")] },
    },
    {
      name: "a finding gone is fixed",
      before: [state("CVE-1")],
      after: [],
      expected: { fixed: [ref("CVE-1")] },
    },
    {
      name: "the same finding is unchanged",
      before: [state("CVE-1")],
      after: [state("CVE-1")],
      expected: { unchanged: 1 },
    },
    {
      name: "a new rating is a severity change",
      before: [state("CVE-1")],
      after: [state("CVE-1", { severity: "critical" })],
      expected: { severity: [{ ...ref("CVE-1"), from: "high", to: "critical" }], unchanged: 0 },
    },
    {
      name: "a new tier is a tier change",
      before: [state("CVE-1", { tier: "report" })],
      after: [state("CVE-1")],
      expected: { tier: [{ ...ref("CVE-1"), from: "report", to: "block" }] },
    },
    {
      name: "a finding suppressed now is newly accepted",
      before: [state("CVE-1")],
      after: [state("CVE-1", { suppressed: true })],
      expected: { accepted: [ref("CVE-1")], expired: [] },
    },
    {
      name: "a suppression that ended has expired",
      before: [state("CVE-1", { suppressed: true })],
      after: [state("CVE-1")],
      expected: { expired: [ref("CVE-1")], accepted: [] },
    },
    {
      name: "the same id on another package version is a new finding and a fixed one",
      before: [state("CVE-1")],
      after: [state("CVE-1", { version: "3.0.13-1" })],
      expected: { new: [{ ...ref("CVE-1"), version: "3.0.13-1" }], fixed: [ref("CVE-1")], unchanged: 0 },
    },
  ];
  it.each(cases)("$name", ({ before, after, expected }) => {
    const diff = diffVerdicts(
      { decision: "block", findings: before },
      { decision: "block", findings: after },
    );
    expect(diff).toMatchObject(expected);
    expect(diff.decision).toBeUndefined();
  });

  it("names a changed decision", () => {
    const diff = diffVerdicts(
      { decision: "pass", findings: [] },
      { decision: "block", findings: [state("CVE-1")] },
    );
    expect(diff.decision).toEqual({ from: "pass", to: "block" });
  });

  it("cuts long lists for a queue message and says so", () => {
    const many = Array.from({ length: 500 }, (_, i) => state(`CVE-${i}`));
    const diff = diffVerdicts({ decision: "pass", findings: [] }, { decision: "block", findings: many });
    const bounded = boundedDiff(diff, 200);
    expect(bounded.new).toHaveLength(200);
    expect(bounded.truncated).toBe(true);
    expect(
      boundedDiff(diffVerdicts({ decision: "pass", findings: [] }, { decision: "pass", findings: [] }), 200),
    ).not.toHaveProperty("truncated");
  });
});

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

const finding = (id: string, over: Partial<Finding> = {}): Finding => ({
  id,
  aliases: [],
  package: {
    name: "openssl",
    version: "3.0.11-1",
    ecosystem: "Debian:12",
    purl: "pkg:deb/debian/openssl@3.0.11-1",
  },
  severity: "high",
  layer: "sha256:aa",
  tier: "block",
  ...over,
});

describe("verdict records", () => {
  const image = { registry: "registry.example", repository: "team/app", digest: `sha256:${"a".repeat(64)}` };
  const verdict = (n: number, cause: "push" | "db-update" = "db-update") => ({
    verdictId: `scan-1|matches/v${n}|${cause}`,
    cause,
    at: `2026-01-0${n}T00:00:00.000Z`,
    dbVersion: `v${n}`,
    decision: "block",
  });

  async function blobs() {
    const dir = await mkdtemp(path.join(os.tmpdir(), "portcullis-verdicts-"));
    dirs.push(dir);
    return new FsBlobStore(dir);
  }

  it("records the first verdict without a diff, and each later one with its diff from the previous", async () => {
    const store = await blobs();
    const first = await recordVerdict(store, image, verdict(1, "push"), [finding("CVE-1")]);
    expect(first).toEqual({ cause: "push", at: verdict(1).at, dbVersion: "v1" });
    const second = await recordVerdict(store, image, verdict(2), [finding("CVE-1"), finding("CVE-2")]);
    expect(second.previous).toEqual({ at: verdict(1).at, cause: "push", dbVersion: "v1" });
    expect(second.diff).toMatchObject({ new: [{ id: "CVE-2" }], unchanged: 1, fixed: [] });
    expect(await readVerdictRecord(store, image)).toEqual(second);
  });

  it("diffs the same from findings handed over as bytes (the verdict thread's), and stores the latest as compact JSON", async () => {
    const store = await blobs();
    await recordVerdict(store, image, verdict(1, "push"), [finding("CVE-1")]);
    const findings = [finding("CVE-1"), finding("CVE-2")];
    const fromJson = verdictFindingsFromBytes(verdictFindings(findings).bytes);
    const planned = await planVerdictRecord(store, image, verdict(2), fromJson);
    expect(planned.record.diff).toMatchObject({ new: [{ id: "CVE-2" }], unchanged: 1, fixed: [] });
    const latest = planned.writes[0]!;
    expect(latest.key).toBe(blobKeys.verdictLatest(image.registry, image.repository, image.digest));
    const text = latest.data.toString();
    expect(JSON.stringify(JSON.parse(text))).toBe(text);
    expect(JSON.parse(text)).toEqual({
      verdictId: verdict(2).verdictId,
      decision: verdict(2).decision,
      record: planned.record,
      findings: verdictFindings(findings).list(),
    });
    // written, it is the baseline the next verdict reads back
    for (const w of planned.writes) await store.put(w.key, w.data, { contentType: "application/json" });
    expect(await readVerdictRecord(store, image)).toEqual(planned.record);
    const third = await recordVerdict(store, image, verdict(3), [finding("CVE-2")]);
    expect(third.diff).toMatchObject({ fixed: [{ id: "CVE-1" }], unchanged: 1 });
  });

  it("answers a redelivered verdict with the diff it recorded the first time", async () => {
    const store = await blobs();
    await recordVerdict(store, image, verdict(1, "push"), [finding("CVE-1")]);
    const once = await recordVerdict(store, image, verdict(2), []);
    const again = await recordVerdict(store, image, verdict(2), []);
    expect(again).toEqual(once);
    expect(again.diff?.fixed).toEqual([{ id: "CVE-1", package: "openssl", version: "3.0.11-1" }]);
  });

  it("goes on without a baseline when the latest record is damaged", async () => {
    const store = await blobs();
    await recordVerdict(store, image, verdict(1, "push"), [finding("CVE-1")]);
    await store.put(
      blobKeys.verdictLatest(image.registry, image.repository, image.digest),
      '{"verdictId": 4',
    );
    const next = await recordVerdict(store, image, verdict(2), [finding("CVE-1")]);
    expect(next).toEqual({ cause: "db-update", at: verdict(2).at, dbVersion: "v2" });
  });

  it("keeps a rescan failure until the image's next verdict", async () => {
    const store = await blobs();
    await recordRescanFailure(store, image, {
      at: verdict(2).at,
      cause: "db-update",
      reason: "inventory is corrupt",
    });
    expect(await readRescanFailure(store, image)).toMatchObject({ reason: "inventory is corrupt" });
    await recordVerdict(store, image, verdict(3), []);
    expect(await readRescanFailure(store, image)).toBeUndefined();
  });
});
