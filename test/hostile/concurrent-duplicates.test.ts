import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HttpDeps } from "../../shared/http/http-deps.js";
import { dispatch } from "../../shared/http/router.js";
import { type AzuriteInstance, startAzurite } from "../../shared/local/azurite.js";
import { AzureTableStore } from "../../shared/ports/azure-table-store.js";
import type { BusSender, OutgoingMessage, SendOptions } from "../../shared/ports/bus.js";
import { FsBlobStore } from "../../shared/ports/fs-blob-store.js";
import { MemoryBus } from "../support/memory-bus.js";
import { bearer, distributionPush, request } from "../pipeline/notifications.js";

const TOKEN = "s3cret-hook-token";
const DIGEST = `sha256:${"b".repeat(64)}`;

/** A bus without duplicate detection that counts sends: what intake itself lets through. */
class CountingBus implements BusSender {
  readonly sent: string[] = [];
  async send(_queue: string, _body: unknown, options: SendOptions): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, 5));
    this.sent.push(options.messageId);
  }
  async sendBatch(queue: string, messages: readonly OutgoingMessage[]): Promise<void> {
    for (const { body, ...options } of messages) await this.send(queue, body, options);
  }
  async close(): Promise<void> {}
}

let azurite: AzuriteInstance | undefined;
beforeAll(async () => {
  azurite = await startAzurite();
});
afterAll(async () => {
  await azurite?.stop();
});

describe("concurrent duplicate notifications", () => {
  it.each([5, 20])("%i identical notifications at once start exactly one scan request", async (n) => {
    const bus = new CountingBus();
    const deps: HttpDeps = {
      tables: new AzureTableStore({ connectionString: azurite!.connectionString }),
      blobs: new FsBlobStore("/nonexistent-unused"),
      bus,
      now: () => new Date(),
      log: () => {},
      hookAuth: { bearerToken: TOKEN },
    };
    const body = distributionPush("127.0.0.1:5000", `app${n}`, "v1", DIGEST, `event-${n}-${Date.now()}`);
    const send = () =>
      dispatch(
        request("POST", "/api/hooks/distribution", {
          body,
          headers: { ...bearer(TOKEN), "content-type": "application/vnd.docker.distribution.events.v2+json" },
        }),
        deps,
      );
    const responses = await Promise.all(Array.from({ length: n }, send));
    expect(bus.sent).toHaveLength(1);
    // the winner answers 202; the others are told it is a duplicate, or to come back while it is in flight
    expect(responses.filter((r) => r.status === 202).length).toBeGreaterThanOrEqual(1);
    for (const r of responses) expect([202, 503]).toContain(r.status);
    // once the first is done, a redelivery is a plain duplicate
    const again = await send();
    expect(again.status).toBe(202);
    expect(again.body).toMatchObject({ accepted: [], duplicates: 1 });
    expect(bus.sent).toHaveLength(1);
  });

  it("the bus's duplicate window lets one of 20 concurrent sends of one message id through", async () => {
    const bus = new MemoryBus();
    await Promise.all(
      Array.from({ length: 20 }, () => bus.send("scan-requests", { n: 1 }, { messageId: "same-id" })),
    );
    expect(bus.peek("scan-requests")).toHaveLength(1);
  });
});
