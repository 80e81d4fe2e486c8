/**
 * What a source fetched, for the bench (a cached re-scan must download no blob) and for logs.
 * One object may be shared by several clients; counters only grow.
 */
export class TransferStats {
  /** HTTP requests sent, including token requests and retries */
  requests = 0;
  manifestRequests = 0;
  /** image config GETs (small; needed to resolve even a fully cached image) */
  configRequests = 0;
  /** layer blob GETs — zero on a fully cached re-scan */
  blobRequests = 0;
  tokenRequests = 0;
  retries = 0;
  /** blob bytes that flowed through digest verification (all transports) */
  blobBytes = 0;
  /** blob streams opened (all transports) */
  blobsOpened = 0;

  snapshot(): Readonly<Omit<TransferStats, "snapshot">> {
    return { ...this };
  }
}
