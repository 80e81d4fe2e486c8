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

  readonly #sending = new Map<string, Promise<void>>();

  /**
   * Runs `send` unless `id` was sent within the window or is being sent right now — checked and
   * claimed in one synchronous step, so concurrent senders of one id cannot both pass. A caller
   * that finds the id in flight waits for it, and sends itself if that send failed.
   */
  async sendOnce(id: string, send: () => Promise<void>): Promise<boolean> {
    for (;;) {
      if (this.has(id)) return false;
      const running = this.#sending.get(id);
      if (!running) break;
      await running.catch(() => {});
    }
    const sending = send();
    this.#sending.set(id, sending);
    try {
      await sending;
      this.record(id);
      return true;
    } finally {
      this.#sending.delete(id);
    }
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
