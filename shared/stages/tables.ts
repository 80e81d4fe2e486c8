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
  /** hooks/intake.ts */
  events: "events",
  exceptions: "exceptions",
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
  matches: (scanId: string, dbVersion: string) => `matches/${scanId}/${dbVersion}.json`,
  report: (registry: string, repository: string, digest: string) =>
    `reports/${encodeURIComponent(registry)}/${repository}/${digest.replace(":", "/")}.json`,
};
