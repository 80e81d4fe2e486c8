import { analyzersWithYaraRules } from "../analysis/registry.js";
import type { Analyzer } from "../analysis/analyzer.js";
import { matchInventory } from "../matching/match.js";
import type { Limits } from "../model/limits.js";
import type { BlobStore } from "../ports/blob-store.js";
import type { BusSender } from "../ports/bus.js";
import type { TableStore } from "../ports/table-store.js";
import type { Policy } from "../policy/policy.js";
import type { OpenVexDocument } from "../policy/vex.js";
import type { ImageSource } from "../registry/image-source.js";
import { type OpenImageSourceOptions, openImageSource } from "../registry/open-image-source.js";
import { RegistryClient } from "../registry/registry-client.js";
import { parseImageReference } from "../registry/reference.js";
import { digestsTaggedNow } from "../registry/tag-lookup.js";
import { makeReport } from "../stages/make-report.js";
import type { DecidedReport } from "../stages/decided-report.js";
import { storedAcceptedRisks } from "../tracking/github-risks.js";
import type { TrackingSetup } from "../tracking/tracking-setup.js";
import type { RegistryAllowList } from "../registry/registry-allow-list.js";
import type { PipelineDeps } from "../stages/pipeline-deps.js";
import type { AcceptedRisk } from "../policy/policy.js";
import { type EnsureDbOptions, ensureDb } from "../vulndb/db-update.js";

export interface PipelineParts {
  tables: TableStore;
  blobs: BlobStore;
  bus: BusSender;
  /** where the vulnerability DB lives (usually `blobs`: its keys are under `vulndb/`) */
  dbStore: BlobStore;
  /** registry access: credentials, insecure registries, retry policy */
  registry: Omit<OpenImageSourceOptions, "registryClient" | "stats" | "onProgress">;
  policy: Policy;
  vex?: readonly OpenVexDocument[];
  /** how a missing DB is fetched on first use (refreshing a stale one is the timer's job) */
  db?: EnsureDbOptions;
  /** replaces the registry entirely (fast unit tests over in-memory images) */
  openSource?: (ref: string) => Promise<ImageSource>;
  analyzers?: readonly Analyzer[];
  limits?: Limits;
  now?: () => Date;
  log?: (message: string) => void;
  /** GitHub tracking issues, when configured */
  tracking?: TrackingSetup;
  /** the registries messages may name; resolve refuses any other before a request */
  registryAllowList?: RegistryAllowList;
  /** runs a rescan's match + decide on another thread (the local host's); undefined when there is no DB yet */
  verdictThread?: {
    runStored(
      key: string,
      image: { tags: string[]; ref: string; registry: string; repository: string },
      acceptedRisks: AcceptedRisk[],
      now: Date,
    ): Promise<DecidedReport | { unreadable: { corrupt?: string } } | undefined>;
  };
}

/** The composition root's one recipe for PipelineDeps, whatever the host and the storage behind it. */
export function buildPipelineDeps(parts: PipelineParts): PipelineDeps {
  const now = parts.now ?? (() => new Date());
  const log = parts.log ?? ((message: string) => process.stderr.write(`${message}\n`));
  // One client for the process: registry tokens are cached across messages.
  const client = new RegistryClient({ ...parts.registry, ...(parts.limits ? { limits: parts.limits } : {}) });
  const openSource =
    parts.openSource ??
    ((ref: string) => openImageSource(ref, { ...parts.registry, registryClient: client }));
  const verdictThread = parts.verdictThread;
  const deps: PipelineDeps = {
    tables: parts.tables,
    blobs: parts.blobs,
    bus: parts.bus,
    openSource,
    digestsTaggedNow(registry, repository, tag) {
      const ref = parseImageReference(`${registry}/${repository}:${tag}`);
      if (ref.transport !== "registry")
        throw new TypeError(`not a registry image: ${registry}/${repository}`);
      return digestsTaggedNow(client, ref, tag);
    },
    ...(parts.analyzers ? { analyzers: parts.analyzers } : {}),
    // the user's YARA rules (portcullis.yaml content.yaraRules) join the content engine
    ...(!parts.analyzers && parts.policy.content?.yaraRules.length
      ? { analyzers: analyzersWithYaraRules(parts.policy.content.yaraRules) }
      : {}),
    ...(parts.limits ? { limits: parts.limits } : {}),
    ...(parts.registry.allowForeignLayers ? { allowForeignLayers: true } : {}),
    ...(parts.registryAllowList ? { registryAllowList: parts.registryAllowList } : {}),
    async match(inventory) {
      const db = await ensureDb(parts.dbStore, { log, ...parts.db, skipUpdate: true });
      const matches = await matchInventory(inventory.packages, db, parts.policy);
      return { matches, db: { version: db.metadata.version, updatedAt: db.metadata.updatedAt } };
    },
    async decide(inventory, matches, db) {
      // risks accepted from GitHub issues join the policy's own
      const fromGitHub = await storedAcceptedRisks(parts.tables, inventory.image);
      const policy = fromGitHub.length
        ? { ...parts.policy, acceptedRisks: [...parts.policy.acceptedRisks, ...fromGitHub] }
        : parts.policy;
      return makeReport(inventory, matches, db, {
        policy,
        now: now(),
        checkReport: false,
        ...(parts.vex ? { vex: parts.vex } : {}),
      }).report;
    },
    ...(verdictThread ? { matchAndDecideStored } : {}),
    now,
    log,
    ...(parts.tracking ? { tracking: parts.tracking } : {}),
  };
  async function matchAndDecideStored(
    key: string,
    image: { tags: string[]; ref: string; registry: string; repository: string },
  ) {
    const acceptedRisks = await storedAcceptedRisks(parts.tables, image);
    return verdictThread!.runStored(key, image, acceptedRisks, now());
  }
  return deps;
}
