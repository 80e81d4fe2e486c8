/** How hard the client tries before giving up on a registry. Delays are injectable so tests run fast. */
export interface RetryPolicy {
  /** total attempts for one request, the first included */
  maxAttempts: number;
  /** first backoff delay; doubles each retry */
  baseDelayMs: number;
  maxDelayMs: number;
  /** a longer `Retry-After` is cut to this */
  maxRetryAfterMs: number;
  sleep: (ms: number) => Promise<void>;
  now: () => number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 5,
  baseDelayMs: 500,
  maxDelayMs: 15_000,
  maxRetryAfterMs: 60_000,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  now: () => Date.now(),
};

/** Exponential backoff with a little jitter so many workers do not retry in lockstep. */
export function backoffDelay(policy: RetryPolicy, attempt: number): number {
  const exponential = policy.baseDelayMs * 2 ** (attempt - 1);
  const jitter = 1 + Math.random() * 0.2;
  return Math.min(policy.maxDelayMs, Math.round(exponential * jitter));
}

/** `Retry-After` as delta-seconds or an HTTP date, capped; undefined when absent or unreadable. */
export function parseRetryAfter(header: string | null, policy: RetryPolicy): number | undefined {
  if (header === null || header.trim() === "") return undefined;
  const text = header.trim();
  let ms: number;
  if (/^\d+$/.test(text)) {
    ms = Number(text) * 1000;
  } else {
    const at = Date.parse(text);
    if (Number.isNaN(at)) return undefined;
    ms = at - policy.now();
  }
  return Math.min(Math.max(0, ms), policy.maxRetryAfterMs);
}

/** Status codes worth another attempt: rate limiting and server-side trouble. */
export const isRetryableStatus = (status: number): boolean =>
  status === 429 || status === 500 || status === 502 || status === 503 || status === 504;
