/**
 * Service Bus duplicate detection, emulated cheaply for the local queues: a message id sent again
 * within the window is dropped. Per process only — after a restart a duplicate can get through,
 * which is fine because every handler is idempotent anyway (delivery is at least once everywhere).
 */
export class DuplicateWindow {
  readonly #seen = new Map<string, number>();
  readonly #windowMs: number;
  readonly #maxEntries: number;

  constructor(options: { windowSeconds?: number; maxEntries?: number } = {}) {
    this.#windowMs = (options.windowSeconds ?? 600) * 1000; // Service Bus's default history window
    this.#maxEntries = options.maxEntries ?? 100_000;
  }

  /** True when `id` was recorded within the window. */
  has(id: string, now = Date.now()): boolean {
    const at = this.#seen.get(id);
    return at !== undefined && now - at < this.#windowMs;
  }

  /** Record after a successful send only: a failed send must be retryable under the same id. */
  record(id: string, now = Date.now()): void {
    this.#seen.delete(id); // re-insert so Map order stays oldest-first
    this.#seen.set(id, now);
    for (const [oldest, at] of this.#seen) {
      if (this.#seen.size <= this.#maxEntries && now - at < this.#windowMs) break;
      this.#seen.delete(oldest);
    }
  }
}
