import type { AccessToken, GetTokenOptions, TokenCredential } from "@azure/core-auth";
import type { QueueRuntimeProperties, ServiceBusMessage, ServiceBusMessageBatch } from "@azure/service-bus";
import { describe, expect, it } from "vitest";
import { MAX_MESSAGE_BYTES } from "../../shared/ports/bus.js";
import {
  ServiceBusBusSender,
  type ServiceBusQueueRuntime,
  type ServiceBusQueueSender,
  toServiceBusMessage,
} from "../../shared/ports/service-bus.js";

/** A stand-in for the SDK's sender, typed against its published interfaces. */
class FakeSender implements ServiceBusQueueSender {
  readonly sent: (ServiceBusMessage | ServiceBusMessage[] | ServiceBusMessage[][])[] = [];
  closed = false;
  constructor(private readonly maxPerBatch = 100) {}

  async sendMessages(messages: Parameters<ServiceBusQueueSender["sendMessages"]>[0]): Promise<void> {
    if (messages instanceof FakeBatch) this.sent.push([messages.messages]);
    else this.sent.push(messages as ServiceBusMessage | ServiceBusMessage[]);
  }

  async createMessageBatch(): Promise<ServiceBusMessageBatch> {
    return new FakeBatch(this.maxPerBatch);
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

class FakeBatch implements ServiceBusMessageBatch {
  readonly messages: ServiceBusMessage[] = [];
  readonly maxSizeInBytes = 256 * 1024;
  constructor(private readonly max: number) {}
  get count() {
    return this.messages.length;
  }
  get sizeInBytes() {
    return this.messages.length;
  }
  tryAddMessage(message: Parameters<ServiceBusMessageBatch["tryAddMessage"]>[0]): boolean {
    if (this.messages.length >= this.max) return false;
    this.messages.push(message as ServiceBusMessage);
    return true;
  }
}

const NOW = new Date("2024-06-01T12:00:00.000Z");

describe("Azure Service Bus sender", () => {
  it("sends JSON with the deterministic message id and content type, one sender per queue", async () => {
    const senders = new Map<string, FakeSender>();
    const bus = new ServiceBusBusSender((q) => senders.set(q, new FakeSender()).get(q)!, { now: () => NOW });
    await bus.send(
      "matching",
      { type: "matching", when: new Date(0), gone: undefined },
      { messageId: "matching.abc" },
    );
    await bus.send("matching", { n: 2 }, { messageId: "matching.def" });
    expect([...senders.keys()]).toEqual(["matching"]);
    const expected: ServiceBusMessage = {
      body: { type: "matching", when: "1970-01-01T00:00:00.000Z" },
      messageId: "matching.abc",
      contentType: "application/json",
    };
    expect(senders.get("matching")!.sent[0]).toEqual(expected);
    await bus.close();
    expect(senders.get("matching")!.closed).toBe(true);
  });

  it("delays with scheduledEnqueueTimeUtc", () => {
    const message = toServiceBusMessage("verdict", {}, { messageId: "v", delaySeconds: 90 }, NOW);
    expect(message.scheduledEnqueueTimeUtc).toEqual(new Date("2024-06-01T12:01:30.000Z"));
    expect(
      toServiceBusMessage("verdict", {}, { messageId: "v", delaySeconds: 0 }, NOW).scheduledEnqueueTimeUtc,
    ).toBeUndefined();
  });

  it("batches a fan-out, starting a new batch when one is full", async () => {
    const sender = new FakeSender(3);
    const bus = new ServiceBusBusSender(() => sender, { now: () => NOW });
    const messages = Array.from({ length: 7 }, (_, i) => ({
      body: { i },
      messageId: `layer-analysis.s.${i}`,
    }));
    await bus.sendBatch("layer-analysis", messages);
    const batches = sender.sent as ServiceBusMessage[][][];
    expect(batches.map(([b]) => b!.map((m) => m.messageId))).toEqual([
      ["layer-analysis.s.0", "layer-analysis.s.1", "layer-analysis.s.2"],
      ["layer-analysis.s.3", "layer-analysis.s.4", "layer-analysis.s.5"],
      ["layer-analysis.s.6"],
    ]);
  });

  it("refuses a body too large for the bus and a message that fits no batch", async () => {
    expect(() =>
      toServiceBusMessage("q", { x: "y".repeat(MAX_MESSAGE_BYTES) }, { messageId: "big" }, NOW),
    ).toThrow(/store it as a blob/);
    const bus = new ServiceBusBusSender(() => new FakeSender(0));
    await expect(bus.sendBatch("q", [{ body: {}, messageId: "m" }])).rejects.toThrow(/does not fit/);
  });

  it("tells a queue's depth from its runtime properties: active and scheduled, not dead-lettered", async () => {
    const asked: string[] = [];
    const runtime: ServiceBusQueueRuntime = {
      getQueueRuntimeProperties: async (name) => {
        asked.push(name);
        const properties: QueueRuntimeProperties = {
          name,
          createdAt: NOW,
          modifiedAt: NOW,
          accessedAt: NOW,
          totalMessageCount: 1337,
          activeMessageCount: 1200,
          scheduledMessageCount: 30,
          deadLetterMessageCount: 100,
          transferMessageCount: 0,
          transferDeadLetterMessageCount: 0,
          sizeInBytes: 4096,
        };
        return Object.assign(properties, { _response: undefined as never });
      },
    };
    const bus = new ServiceBusBusSender(() => new FakeSender(), { runtime });
    expect(await bus.depth("matching")).toBe(1230);
    expect(asked).toEqual(["matching"]);
    await expect(new ServiceBusBusSender(() => new FakeSender()).depth("matching")).rejects.toThrow(
      /no administration client/,
    );
  });

  it("builds identity-based and connection-string clients without connecting", async () => {
    const credential: TokenCredential = {
      getToken: async (_scopes: string | string[], _options?: GetTokenOptions): Promise<AccessToken | null> =>
        null,
    };
    const viaIdentity = ServiceBusBusSender.fromNamespace("portcullis.servicebus.windows.net", credential);
    const viaString = ServiceBusBusSender.fromConnectionString(
      "Endpoint=sb://portcullis.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey=bm90LWEta2V5",
    );
    await viaIdentity.close();
    await viaString.close();
  });
});
