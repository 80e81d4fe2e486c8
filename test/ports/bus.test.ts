import { QueueServiceClient } from "@azure/storage-queue";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { type AzuriteInstance, startAzurite } from "../../shared/local/azurite.js";
import { ScanError } from "../../shared/model/errors.js";
import {
  type Bus,
  type Delivery,
  MAX_MESSAGE_BYTES,
  type PoisonReason,
  type PoisonedMessage,
} from "../../shared/ports/bus.js";
import { MemoryBus } from "../support/memory-bus.js";
import { decodeEnvelope, type Envelope } from "../../shared/ports/queue-transport.js";
import { StorageQueueBus } from "../../shared/ports/storage-queue-bus.js";
import { SqliteBus } from "../../shared/local/sqlite-bus.js";
import { openLocalStore } from "../../shared/local/sqlite-database.js";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

let azurite: AzuriteInstance | undefined;
let sqliteDir: string;
beforeAll(async () => {
  azurite = await startAzurite();
  sqliteDir = await mkdtemp(path.join(os.tmpdir(), "portcullis-bus-"));
});
afterAll(async () => {
  await azurite?.stop();
  await rm(sqliteDir, { recursive: true, force: true });
});

let queueCounter = 0;
const freshQueue = () => `q${Date.now().toString(36)}-${queueCounter++}`;
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

interface Harness {
  bus: Bus;
  /** visibility timeout the transport can do quickly */
  visibility: number;
  poisonMessages(queue: string): Promise<Envelope[]>;
  pending(queue: string): Promise<number>;
}

function rawQueues(): QueueServiceClient {
  return QueueServiceClient.fromConnectionString(azurite!.connectionString);
}

async function readAll(queue: string): Promise<Envelope[]> {
  const client = rawQueues().getQueueClient(queue);
  if (!(await client.exists())) return [];
  const peeked = await client.peekMessages({ numberOfMessages: 32 });
  return peeked.peekedMessageItems.flatMap(
    (m) => decodeEnvelope(Buffer.from(m.messageText, "base64").toString()) ?? [],
  );
}

const harnesses: [string, () => Harness][] = [
  [
    "memory",
    () => {
      const bus = new MemoryBus();
      return {
        bus,
        visibility: 0.2,
        poisonMessages: async (q) => bus.peek(`${q}-poison`),
        pending: async (q) => bus.peek(q).length,
      };
    },
  ],
  [
    "Storage Queues on Azurite",
    () => {
      const bus = new StorageQueueBus({
        connectionString: azurite!.connectionString,
        polling: { maxIdleMs: 100 },
      });
      return {
        bus,
        visibility: 1,
        poisonMessages: (q) => readAll(`${q}-poison`),
        pending: (q) => bus.depth(q),
      };
    },
  ],
  [
    "SQLite (the local host's durable store)",
    () => {
      const bus = new SqliteBus(openLocalStore(path.join(sqliteDir, "contract.sqlite")), {
        polling: { maxIdleMs: 50 },
      });
      return {
        bus,
        visibility: 0.3,
        poisonMessages: async (q) => bus.peek(`${q}-poison`),
        pending: (q) => bus.depth(q),
      };
    },
  ],
];

describe.each(harnesses)("Bus contract: %s", (_name, create) => {
  let h: Harness;
  beforeAll(() => {
    h = create();
  });
  afterAll(async () => {
    await h.bus.close();
  });

  function recordPoison() {
    const poisoned: [PoisonedMessage, PoisonReason][] = [];
    return { poisoned, onPoison: (m: PoisonedMessage, r: PoisonReason) => void poisoned.push([m, r]) };
  }

  it("delivers a message once with its id and body, and deletes it after success", async () => {
    const queue = freshQueue();
    const seen: Delivery<unknown>[] = [];
    const { poisoned, onPoison } = recordPoison();
    const sub = h.bus.subscribe(queue, async (d) => void seen.push(d), {
      maxDeliveries: 3,
      visibilityTimeoutSeconds: h.visibility,
      concurrency: 2,
      onPoison,
    });
    await h.bus.send(queue, { hello: "wörld" }, { messageId: "m-1" });
    await until(() => seen.length === 1);
    await sleep(h.visibility * 1500);
    await sub.stop();
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ queue, messageId: "m-1", body: { hello: "wörld" }, deliveryCount: 1 });
    expect(seen[0]!.enqueuedAt).toBeInstanceOf(Date);
    expect(poisoned).toEqual([]);
    expect(await h.pending(queue)).toBe(0);
  });

  it("redelivers after a handler error, after the visibility timeout, with a growing delivery count", async () => {
    const queue = freshQueue();
    const attempts: { count: number; at: number }[] = [];
    const sub = h.bus.subscribe(
      queue,
      async (d) => {
        attempts.push({ count: d.deliveryCount, at: Date.now() });
        if (d.deliveryCount < 3) throw new Error("registry answered 503");
      },
      { maxDeliveries: 5, visibilityTimeoutSeconds: h.visibility, concurrency: 1, onPoison: () => {} },
    );
    await h.bus.send(queue, { n: 1 }, { messageId: "retry-1" });
    await until(() => attempts.length === 3);
    await sub.stop();
    expect(attempts.map((a) => a.count)).toEqual([1, 2, 3]);
    expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(h.visibility * 1000 * 0.9);
    await until(async () => (await h.pending(queue)) === 0);
  });

  it("poisons a message that keeps failing after maxDeliveries, exactly once, with the last error", async () => {
    const queue = freshQueue();
    const { poisoned, onPoison } = recordPoison();
    let calls = 0;
    const sub = h.bus.subscribe(
      queue,
      async () => {
        calls++;
        throw new Error(`boom ${calls}`);
      },
      { maxDeliveries: 2, visibilityTimeoutSeconds: h.visibility, concurrency: 1, onPoison },
    );
    await h.bus.send(queue, { scanId: "s" }, { messageId: "always-fails" });
    await until(() => poisoned.length === 1);
    await sleep(h.visibility * 1500);
    await sub.stop();
    expect(calls).toBe(2);
    expect(poisoned).toHaveLength(1);
    const [message, reason] = poisoned[0]!;
    expect(message).toEqual({ queue, messageId: "always-fails", body: { scanId: "s" } });
    expect(reason).toMatchObject({ kind: "max-deliveries", deliveryCount: 2 });
    expect(reason.message).toMatch(/failed 2 times, last: boom 2/);
    const dead = await until(async () => {
      const all = await h.poisonMessages(queue);
      return all.length > 0 ? all : undefined;
    });
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({
      id: "always-fails",
      body: { scanId: "s" },
      poison: { kind: "max-deliveries" },
    });
    expect(await h.pending(queue)).toBe(0);
  });

  it("poisons at once on a permanent error (image gone, digest mismatch)", async () => {
    const queue = freshQueue();
    const { poisoned, onPoison } = recordPoison();
    let calls = 0;
    const sub = h.bus.subscribe(
      queue,
      async () => {
        calls++;
        throw new ScanError("digest-mismatch", "layer sha256:ab… does not match its digest");
      },
      { maxDeliveries: 5, visibilityTimeoutSeconds: h.visibility, concurrency: 1, onPoison },
    );
    await h.bus.send(queue, {}, { messageId: "perm" });
    await until(() => poisoned.length === 1);
    await sub.stop();
    expect(calls).toBe(1);
    expect(poisoned[0]![1]).toMatchObject({ kind: "permanent", deliveryCount: 1 });
    expect(poisoned[0]![1].error).toBeInstanceOf(ScanError);
  });

  it("validates bodies against the schema: a mismatch is poisoned without calling the handler", async () => {
    const queue = freshQueue();
    const { poisoned, onPoison } = recordPoison();
    const bodies: { scanId: string }[] = [];
    const schema = z.object({ scanId: z.string() });
    const sub = h.bus.subscribe(queue, async (d) => void bodies.push(d.body), {
      maxDeliveries: 5,
      visibilityTimeoutSeconds: h.visibility,
      concurrency: 1,
      schema,
      onPoison,
    });
    await h.bus.send(queue, { scanId: 42 }, { messageId: "bad" });
    await h.bus.send(queue, { scanId: "ok" }, { messageId: "good" });
    await until(() => poisoned.length === 1 && bodies.length === 1);
    await sub.stop();
    expect(bodies).toEqual([{ scanId: "ok" }]);
    expect(poisoned[0]![1].kind).toBe("invalid");
    expect(poisoned[0]![1].message).toMatch(/schema/);
  });

  it("drops a duplicate message id within the window (Service Bus duplicate detection)", async () => {
    const queue = freshQueue();
    const seen: unknown[] = [];
    await h.bus.send(queue, { v: 1 }, { messageId: "dup" });
    await h.bus.send(queue, { v: 2 }, { messageId: "dup" });
    await h.bus.sendBatch(queue, [
      { body: { v: 3 }, messageId: "dup" },
      { body: { v: 4 }, messageId: "other" },
    ]);
    const sub = h.bus.subscribe(queue, async (d) => void seen.push(d.body), {
      maxDeliveries: 3,
      visibilityTimeoutSeconds: h.visibility,
      concurrency: 4,
      onPoison: () => {},
    });
    await until(() => seen.length === 2);
    await sleep(200);
    await sub.stop();
    expect(seen).toEqual(expect.arrayContaining([{ v: 1 }, { v: 4 }]));
    expect(seen).toHaveLength(2);
  });

  it("sends a batch once per message: a duplicate id is dropped whether it came before or inside the batch", async () => {
    const queue = freshQueue();
    const seen: Delivery<unknown>[] = [];
    await h.bus.send(queue, { v: 0 }, { messageId: "b-0" });
    await h.bus.sendBatch(queue, [
      { body: { v: 1 }, messageId: "b-0" },
      ...Array.from({ length: 40 }, (_, i) => ({ body: { v: i + 1 }, messageId: `b-${i + 1}` })),
      { body: { v: 99 }, messageId: "b-7" },
    ]);
    expect(await h.bus.depth!(queue)).toBe(41);
    const sub = h.bus.subscribe(queue, async (d) => void seen.push(d), {
      maxDeliveries: 3,
      visibilityTimeoutSeconds: h.visibility + 1,
      concurrency: 8,
      onPoison: () => {},
    });
    await until(() => seen.length === 41);
    await sleep(200);
    await sub.stop();
    expect(seen.map((d) => d.messageId).sort()).toEqual(
      Array.from({ length: 41 }, (_, i) => `b-${i}`).sort(),
    );
    expect(seen.find((d) => d.messageId === "b-0")!.body).toEqual({ v: 0 });
    expect(seen.find((d) => d.messageId === "b-7")!.body).toEqual({ v: 7 });
    await until(async () => (await h.bus.depth!(queue)) === 0);
  });

  it("reports a queue's depth: waiting, delayed and leased messages count until they are completed", async () => {
    const queue = freshQueue();
    expect(await h.bus.depth!(queue)).toBe(0);
    await h.bus.sendBatch(queue, [
      { body: {}, messageId: "d-1" },
      { body: {}, messageId: "d-2" },
      { body: {}, messageId: "d-later", delaySeconds: 3600 },
    ]);
    expect(await h.bus.depth!(queue)).toBe(3);
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let started = 0;
    const sub = h.bus.subscribe(
      queue,
      async () => {
        started++;
        await held;
      },
      { maxDeliveries: 3, visibilityTimeoutSeconds: h.visibility + 1, concurrency: 2, onPoison: () => {} },
    );
    await until(() => started === 2);
    expect(await h.bus.depth!(queue)).toBe(3); // leased, not yet done
    release();
    await until(async () => (await h.bus.depth!(queue)) === 1); // the delayed one waits
    await sub.stop();
  });

  it("renews the lock while a long handler runs: no second delivery meanwhile", async () => {
    const queue = freshQueue();
    const deliveries: number[] = [];
    const sub = h.bus.subscribe(
      queue,
      async (d) => {
        deliveries.push(d.deliveryCount);
        await sleep(h.visibility * 1000 * 2.5);
      },
      { maxDeliveries: 3, visibilityTimeoutSeconds: h.visibility, concurrency: 4, onPoison: () => {} },
    );
    await h.bus.send(queue, {}, { messageId: "slow" });
    await until(() => deliveries.length === 1);
    await until(async () => (await h.pending(queue)) === 0);
    await sub.stop();
    expect(deliveries).toEqual([1]);
  });

  it("holds a delayed message back until its time", async () => {
    const queue = freshQueue();
    const received: number[] = [];
    const sentAt = Date.now();
    await h.bus.send(queue, {}, { messageId: "later", delaySeconds: 1 });
    const sub = h.bus.subscribe(queue, async () => void received.push(Date.now()), {
      maxDeliveries: 3,
      visibilityTimeoutSeconds: h.visibility,
      concurrency: 1,
      onPoison: () => {},
    });
    await until(() => received.length === 1);
    await sub.stop();
    expect(received[0]! - sentAt).toBeGreaterThanOrEqual(900);
  });

  it("runs up to `concurrency` handlers at once", async () => {
    const queue = freshQueue();
    let running = 0;
    let peak = 0;
    let done = 0;
    const sub = h.bus.subscribe(
      queue,
      async () => {
        peak = Math.max(peak, ++running);
        await sleep(150);
        running--;
        done++;
      },
      { maxDeliveries: 3, visibilityTimeoutSeconds: h.visibility + 1, concurrency: 3, onPoison: () => {} },
    );
    await h.bus.sendBatch(
      queue,
      Array.from({ length: 7 }, (_, i) => ({ body: { i }, messageId: `${queue}-${i}` })),
    );
    await until(() => done === 7);
    await sub.stop();
    expect(peak).toBeLessThanOrEqual(3);
    expect(peak).toBeGreaterThan(1);
  });

  it("retries onPoison when it fails, and still moves the message to the poison queue in the end", async () => {
    const queue = freshQueue();
    let callbackCalls = 0;
    const sub = h.bus.subscribe(
      queue,
      async () => {
        throw new ScanError("not-found", "manifest unknown");
      },
      {
        maxDeliveries: 1,
        visibilityTimeoutSeconds: h.visibility,
        concurrency: 1,
        onPoison: () => {
          callbackCalls++;
          throw new Error("scans table unavailable");
        },
      },
    );
    await h.bus.send(queue, { id: 1 }, { messageId: "cb-fails" });
    const dead = await until(async () => {
      const all = await h.poisonMessages(queue);
      return all.length > 0 ? all : undefined;
    }, 30_000);
    await sub.stop();
    expect(callbackCalls).toBe(4); // first delivery + POISON_CALLBACK_RETRIES
    expect(dead[0]!.poison!.message).toMatch(/onPoison kept failing: scans table unavailable/);
    expect(await h.pending(queue)).toBe(0);
  });

  it("refuses a body larger than every transport carries", async () => {
    await expect(
      h.bus.send(freshQueue(), { blob: "x".repeat(MAX_MESSAGE_BYTES) }, { messageId: "huge" }),
    ).rejects.toThrow(/store it as a blob/);
  });
});

describe("StorageQueueBus specifics", () => {
  it("poisons a message whose handler keeps dying (the lock expires, dequeueCount climbs) without running it again", async () => {
    const bus = new StorageQueueBus({
      connectionString: azurite!.connectionString,
      polling: { maxIdleMs: 100 },
    });
    const queue = freshQueue();
    await bus.send(queue, { scanId: "x" }, { messageId: "crashy" });
    // Two workers that "die" mid-handler: they take the message and never answer.
    const raw = rawQueues().getQueueClient(queue);
    for (let i = 0; i < 2; i++) {
      const got = await until(
        async () => (await raw.receiveMessages({ visibilityTimeout: 1 })).receivedMessageItems[0],
      );
      expect(got.dequeueCount).toBe(i + 1);
    }
    let handlerCalls = 0;
    const poisoned: PoisonReason[] = [];
    const sub = bus.subscribe(queue, async () => void handlerCalls++, {
      maxDeliveries: 2,
      visibilityTimeoutSeconds: 1,
      concurrency: 1,
      onPoison: (_m, r) => void poisoned.push(r),
    });
    await until(() => poisoned.length === 1);
    await sub.stop();
    await bus.close();
    expect(handlerCalls).toBe(0);
    expect(poisoned[0]).toMatchObject({ kind: "max-deliveries", deliveryCount: 3 });
    expect(poisoned[0]!.message).toMatch(/crashed or timed out/);
  });

  it("poisons a foreign message that is not one of our envelopes, keeping its text", async () => {
    const bus = new StorageQueueBus({
      connectionString: azurite!.connectionString,
      polling: { maxIdleMs: 100 },
    });
    const queue = freshQueue();
    const raw = rawQueues().getQueueClient(queue);
    await raw.createIfNotExists();
    await raw.sendMessage(Buffer.from("not json at all").toString("base64"));
    const poisoned: PoisonReason[] = [];
    const sub = bus.subscribe(queue, async () => {}, {
      maxDeliveries: 3,
      visibilityTimeoutSeconds: 1,
      concurrency: 1,
      onPoison: (_m, r) => void poisoned.push(r),
    });
    await until(() => poisoned.length === 1);
    await sub.stop();
    await bus.close();
    expect(poisoned[0]!.kind).toBe("invalid");
    const dead = await readAll(`${queue}-poison`);
    expect(dead[0]).toMatchObject({ body: "not json at all", poison: { kind: "invalid" } });
  });

  it("stores bodies as base64 JSON envelopes, the Functions queue trigger default", async () => {
    const bus = new StorageQueueBus({ connectionString: azurite!.connectionString });
    const queue = freshQueue();
    await bus.send(queue, { type: "matching" }, { messageId: "enc" });
    const peeked = await rawQueues().getQueueClient(queue).peekMessages();
    const text = peeked.peekedMessageItems[0]!.messageText;
    expect(JSON.parse(Buffer.from(text, "base64").toString())).toMatchObject({
      id: "enc",
      body: { type: "matching" },
    });
    await bus.close();
  });

  it("rejects queue names Storage Queues do not allow", async () => {
    const bus = new StorageQueueBus({ connectionString: azurite!.connectionString });
    await expect(bus.send("Scan_Requests", {}, { messageId: "x" })).rejects.toThrow(
      /invalid storage queue name/,
    );
  });
});

describe("SqliteBus specifics: what a restart on the same file keeps", () => {
  const reopen = (file: string) => new SqliteBus(openLocalStore(file), { polling: { maxIdleMs: 50 } });
  const subscribeOnce = (bus: SqliteBus, queue: string, seen: Delivery<unknown>[]) =>
    bus.subscribe(queue, async (d) => void seen.push(d), {
      maxDeliveries: 3,
      visibilityTimeoutSeconds: 0.3,
      concurrency: 1,
      onPoison: () => {},
    });

  it("keeps a sent message and its duplicate window across a reopen of the file", async () => {
    const file = path.join(sqliteDir, "restart-send.sqlite");
    const first = reopen(file);
    await first.send("scan-requests", { v: 1 }, { messageId: "m1" });
    // a new connection stands for the restarted process: nothing is carried in memory
    const second = reopen(file);
    expect(await second.depth("scan-requests")).toBe(1);
    await second.send("scan-requests", { v: 2 }, { messageId: "m1" });
    const seen: Delivery<unknown>[] = [];
    const sub = subscribeOnce(second, "scan-requests", seen);
    await until(() => seen.length === 1);
    await sleep(200);
    await sub.stop();
    expect(seen.map((d) => d.body)).toEqual([{ v: 1 }]);
    // completed and still remembered: a resend in the window is dropped after yet another restart
    const third = reopen(file);
    await third.send("scan-requests", { v: 3 }, { messageId: "m1" });
    expect(await third.depth("scan-requests")).toBe(0);
  });

  it("redelivers a message whose handler died with the process, with the next delivery count", async () => {
    const file = path.join(sqliteDir, "restart-lease.sqlite");
    const dyingDb = openLocalStore(file);
    const dying = new SqliteBus(dyingDb, { polling: { maxIdleMs: 50 } });
    await dying.send("matching", { scanId: "s" }, { messageId: "lease" });
    const started: Delivery<unknown>[] = [];
    // the handler never answers: the process "dies" holding the lock
    dying.subscribe("matching", (d) => new Promise(() => void started.push(d)), {
      maxDeliveries: 3,
      visibilityTimeoutSeconds: 0.3,
      concurrency: 1,
      onPoison: () => {},
      onError: () => {},
    });
    await until(() => started.length === 1);
    // the process is gone: its connection with it, so nobody renews the lock any more
    dyingDb.close();
    const seen: Delivery<unknown>[] = [];
    const sub = subscribeOnce(reopen(file), "matching", seen);
    await until(() => seen.length === 1, 10_000);
    await sub.stop();
    expect(seen[0]).toMatchObject({ messageId: "lease", body: { scanId: "s" } });
    expect(seen[0]!.deliveryCount).toBeGreaterThanOrEqual(2);
  });

  it("commits a batch durably and keeps its ids in the duplicate window across a reopen", async () => {
    const file = path.join(sqliteDir, "restart-batch.sqlite");
    const first = reopen(file);
    const batch = Array.from({ length: 1200 }, (_, i) => ({ body: { i }, messageId: `batch-${i}` }));
    await first.sendBatch("matching", batch);
    const second = reopen(file);
    expect(await second.depth("matching")).toBe(1200);
    await second.sendBatch("matching", [...batch.slice(0, 3), { body: { i: -1 }, messageId: "new" }]);
    expect(await second.depth("matching")).toBe(1201);
    expect(second.peek("matching").at(-1)!.body).toEqual({ i: -1 });
  });

  it("refuses a batch holding a body too large, sending none of that batch", async () => {
    const bus = reopen(path.join(sqliteDir, "batch-refused.sqlite"));
    await expect(
      bus.sendBatch("verdict", [
        { body: {}, messageId: "ok" },
        { body: { blob: "x".repeat(MAX_MESSAGE_BYTES) }, messageId: "huge" },
      ]),
    ).rejects.toThrow(/store it as a blob/);
    expect(await bus.depth("verdict")).toBe(0);
    await bus.send("verdict", {}, { messageId: "ok" });
    expect(await bus.depth("verdict")).toBe(1);
  });

  it("lets an id through again once the window has passed", async () => {
    const bus = new SqliteBus(openLocalStore(path.join(sqliteDir, "window.sqlite")), {
      duplicateWindowSeconds: 0.2,
    });
    await bus.send("verdict", { v: 1 }, { messageId: "w" });
    await bus.send("verdict", { v: 2 }, { messageId: "w" });
    expect(await bus.depth("verdict")).toBe(1);
    await sleep(300);
    await bus.send("verdict", { v: 3 }, { messageId: "w" });
    expect(bus.peek("verdict").map((e) => e.body)).toEqual([{ v: 1 }, { v: 3 }]);
  });
});
