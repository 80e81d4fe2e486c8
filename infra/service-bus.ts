import * as servicebus from "@pulumi/azure-native/servicebus/index.js";
import type * as pulumi from "@pulumi/pulumi";
import { QUEUE_NAMES, type QueueName } from "../shared/model/messages.js";
import type { StackConfig } from "./stack-config.js";

/** How long a delivered message stays locked to one worker before Service Bus hands it to another. */
export interface QueueTuning {
  lockDuration: string;
}

/**
 * Per-stage lock durations (ISO 8601). The Functions host renews a lock while the function runs
 * (host.json maxAutoLockRenewalDuration, 10 min), so this is how soon a message held by a crashed
 * worker is redelivered: long enough for one step of the stage, short enough to recover quickly.
 * A queue missing here gets DEFAULT_TUNING: one line in QUEUE_NAMES is one queue.
 */
export const QUEUE_TUNING: Partial<Record<QueueName, QueueTuning>> = {
  "scan-requests": { lockDuration: "PT2M" }, // resolve: manifest and config fetches from a slow registry
  "layer-analysis": { lockDuration: "PT5M" }, // the longest step (download + unpack one layer); 5 min is the Service Bus maximum
  matching: { lockDuration: "PT2M" }, // loads DB shards for the image's ecosystems
  verdict: { lockDuration: "PT1M" }, // table and blob writes only
  tracking: { lockDuration: "PT1M" }, // a few GitHub API calls
};
const DEFAULT_TUNING: QueueTuning = { lockDuration: "PT1M" }; // short work until a stage says otherwise

/** The same for every stage queue; each value says why. */
export function queueSettings(
  queue: QueueName,
  maxDeliveries: number,
): Omit<servicebus.QueueArgs, "resourceGroupName" | "namespaceName"> {
  return {
    queueName: queue,
    lockDuration: (QUEUE_TUNING[queue] ?? DEFAULT_TUNING).lockDuration,
    // = PORTCULLIS_MAX_DELIVERIES: the code fails the scan on that delivery, then Service Bus dead-letters it.
    maxDeliveryCount: maxDeliveries,
    // Senders set deterministic messageIds: a send retried after a crash within 10 min is dropped.
    requiresDuplicateDetection: true,
    duplicateDetectionHistoryTimeWindow: "PT10M", // longer than any send retry, shorter than the hourly rescan ids repeat
    // A message that expires unprocessed is a scan that never finished: keep it for inspection.
    deadLetteringOnMessageExpiration: true,
    defaultMessageTimeToLive: "P7D", // a week of outage is still recoverable; older work is rescanned anyway
    // Stages are idempotent and order-free: no sessions, and no partitioning (nothing relies on it).
    requiresSession: false,
    enablePartitioning: false,
    maxSizeInMegabytes: 1024,
  };
}

/** A Service Bus namespace that accepts Entra ID only (no SAS keys) and one queue per stage. */
export function pipelineBus(
  resourceGroupName: pulumi.Input<string>,
  config: StackConfig,
  maxDeliveries: number,
): { namespace: servicebus.Namespace; queues: servicebus.Queue[] } {
  const namespace = new servicebus.Namespace("bus", {
    resourceGroupName,
    location: config.location,
    sku: { name: config.serviceBusSku, tier: config.serviceBusSku },
    disableLocalAuth: true,
    minimumTlsVersion: "1.2",
  });
  const queues = QUEUE_NAMES.map(
    (queue) =>
      new servicebus.Queue(`queue-${queue}`, {
        resourceGroupName,
        namespaceName: namespace.name,
        ...queueSettings(queue, maxDeliveries),
      }),
  );
  return { namespace, queues };
}
