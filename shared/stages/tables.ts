/** Table names (alphanumeric: Table Storage forbids dashes). */
export const TABLES = {
  scans: "scans",
  images: "images",
  findings: "findings",
  packageIndex: "packageindex",
  events: "events",
  exceptions: "exceptions",
  tracking: "tracking",
  /** per layer digest × analyzer set: who is analysing it now (layer-lease.ts) */
  layerLeases: "layerleases",
} as const;

/** Where a stage's blobs live: content-addressed where the content is, by scan where it is not. */
export const blobKeys = {
  inventory: (digest: string, analyzerSet: string) =>
    `inventories/${digest.replace(":", "/")}/${analyzerSet}.json`,
  matches: (scanId: string, dbVersion: string) => `matches/${scanId}/${dbVersion}.json`,
  report: (registry: string, repository: string, digest: string) =>
    `reports/${encodeURIComponent(registry)}/${repository}/${digest.replace(":", "/")}.json`,
};
