/** Table names (alphanumeric: Table Storage forbids dashes), each with the one module that owns it. */
export const TABLES = {
  /** scan-state.ts */
  scans: "scans",
  /** scanned-images.ts */
  images: "images",
  /** findings.ts */
  findings: "findings",
  /** findings.ts */
  packageIndex: "packageindex",
  /** hooks/event-claim.ts: push dedupe claims, GitHub deliveries seen, refused registries */
  events: "events",
  /** tracking/github-risks.ts */
  exceptions: "exceptions",
  /** tracking/tracking-ledger.ts */
  tracking: "tracking",
  /** per layer digest × analyzer set: who is analysing it now (layer-lease.ts) */
  layerLeases: "layerleases",
  /** historical and scheduled rescans, a row per run and per image (rescan-runs.ts) */
  rescans: "rescans",
} as const;

/** Where a stage's blobs live (stage-blobs.ts): content-addressed where the content is, by scan where it is not. */
export const blobKeys = {
  inventory: (digest: string, analyzerSet: string) =>
    `inventories/${digest.replace(":", "/")}/${analyzerSet}.json`,
  /** the image config, content-addressed: matching audits it (runs as root, secrets, HEALTHCHECK) */
  config: (digest: string) => `configs/${digest.replace(":", "/")}.json`,
  matches: (scanId: string, dbVersion: string) => `matches/${scanId}/${dbVersion}.json`,
  report: (registry: string, repository: string, digest: string) =>
    `reports/${encodeURIComponent(registry)}/${repository}/${digest.replace(":", "/")}.json`,
  /** the latest verdict's record and findings baseline (verdict-history.ts) */
  verdictLatest: (registry: string, repository: string, digest: string) =>
    `verdicts/${encodeURIComponent(registry)}/${repository}/${digest.replace(":", "/")}/latest.json`,
  /** why the last rescan of the image failed (cleared by its next verdict) */
  rescanFailure: (registry: string, repository: string, digest: string) =>
    `verdicts/${encodeURIComponent(registry)}/${repository}/${digest.replace(":", "/")}/rescan-failure.json`,
  /** every verdict's record, by when it was made */
  verdictRecord: (registry: string, repository: string, digest: string, at: string) =>
    `verdicts/${encodeURIComponent(registry)}/${repository}/${digest.replace(":", "/")}/${at.replace(/[:.]/g, "")}.json`,
};
