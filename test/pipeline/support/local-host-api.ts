import { SettingsSchema } from "../../../shared/composition/settings.js";
import type { LocalHost, LocalHostOptions } from "../../../shared/local/host.js";
import type { NotificationEndpoint } from "../../support/registry-server.js";

export interface ApiAnswer {
  status: number;
  body: Record<string, unknown>;
}

/** Calls the local host's HTTP API and parses the JSON answer. */
export async function callApi(host: Pick<LocalHost, "url">, pathAndQuery: string, init?: RequestInit) {
  const res = await fetch(`${host.url}${pathAndQuery}`, init);
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

/** Polls the gate until the verdict is in (not 404 "not yet notified", not 409 pending). */
export async function waitForVerdict(
  host: Pick<LocalHost, "url">,
  ref: string,
  options: { timeoutMs?: number; logs?: readonly string[] } = {},
): Promise<ApiAnswer> {
  const deadline = Date.now() + (options.timeoutMs ?? 240_000);
  for (;;) {
    const answer = await callApi(host, `/api/gate?image=${encodeURIComponent(ref)}`);
    if (answer.status !== 404 && answer.status !== 409) return answer;
    if (Date.now() > deadline)
      throw new Error(
        `no verdict for ${ref}: ${JSON.stringify(answer)}\n${(options.logs ?? []).slice(-20).join("\n")}`,
      );
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The local host as the end-to-end suites run it: fast registry retries, offline DB, no timers. */
export function testHostOptions(dataDir: string, logs: string[], port = 0): LocalHostOptions {
  return {
    dataDir,
    port,
    settings: SettingsSchema.parse({}),
    registry: { insecureRegistries: ["127.0.0.1"], retry: { maxAttempts: 2, baseDelayMs: 50 } },
    db: { offline: true },
    workers: { visibilityTimeoutSeconds: 30 },
    rescanIntervalMs: 0,
    dbRefreshIntervalMs: 0,
    log: (m) => logs.push(m),
  };
}

/** The registry's `notifications:` entry that delivers pushes to the local host's Distribution hook. */
export function hostNotifications(host: Pick<LocalHost, "url" | "hookToken">): NotificationEndpoint[] {
  return [
    {
      url: `${host.url}/api/hooks/distribution`,
      bearerToken: host.hookToken,
      timeout: "5s",
      backoff: "500ms",
      ignoredMediaTypes: ["application/octet-stream"],
    },
  ];
}
