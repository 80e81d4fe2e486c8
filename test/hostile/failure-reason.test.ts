import { QueueServiceClient } from "@azure/storage-queue";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AzuriteInstance, startAzurite } from "../../shared/local/azurite.js";
import type { PoisonReason } from "../../shared/ports/bus.js";
import { StorageQueueBus } from "../../shared/ports/storage-queue-bus.js";

let azurite: AzuriteInstance | undefined;
beforeAll(async () => {
  azurite = await startAzurite();
});
afterAll(async () => {
  await azurite?.stop();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
async function until<T>(probe: () => T | Promise<T>, timeoutMs = 20_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await sleep(20);
  }
}

describe("the reason of a message given up on after crashes", () => {
  it("keeps the last real error with the delivery count", async () => {
    const bus = new StorageQueueBus({
      connectionString: azurite!.connectionString,
      polling: { maxIdleMs: 100 },
    });
    const queue = `reason-${Date.now().toString(36)}`;
    await bus.send(queue, { scanId: "s" }, { messageId: "flaky" });
    // one delivery fails on the network…
    let calls = 0;
    const first = bus.subscribe(
      queue,
      async () => {
        calls++;
        throw Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5000"), { code: "ECONNREFUSED" });
      },
      { maxDeliveries: 3, visibilityTimeoutSeconds: 1, concurrency: 1, onPoison: () => {} },
    );
    await until(() => calls === 1);
    await first.stop();
    // …then two workers die holding it
    const raw = QueueServiceClient.fromConnectionString(azurite!.connectionString).getQueueClient(queue);
    for (let i = 0; i < 2; i++)
      await until(async () => (await raw.receiveMessages({ visibilityTimeout: 1 })).receivedMessageItems[0]);
    const poisoned: PoisonReason[] = [];
    const second = bus.subscribe(queue, async () => {}, {
      maxDeliveries: 3,
      visibilityTimeoutSeconds: 1,
      concurrency: 1,
      onPoison: (_m, r) => void poisoned.push(r),
    });
    await until(() => poisoned.length === 1);
    await second.stop();
    await bus.close();
    expect(poisoned[0]).toMatchObject({ kind: "max-deliveries", deliveryCount: 4 });
    expect(poisoned[0]!.message).toMatch(/delivered 4 times without completing/);
    expect(poisoned[0]!.message).toMatch(/last error: connect ECONNREFUSED 127\.0\.0\.1:5000/);
  });
});
