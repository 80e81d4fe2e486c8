import { describe, expect, it } from "vitest";
import { readSettings } from "../../shared/composition/settings.js";
import { QUEUE_NAMES } from "../../shared/model/messages.js";
import { EVENT_GRID_FUNCTION } from "../event-grid.js";
import { queueSettings } from "../service-bus.js";
import { portcullisStack } from "../portcullis-stack.js";
import { ROLES } from "../roles.js";
import { ofType, ROLE_ID, runWithMocks } from "./mocks.js";
import { acr, stackInput } from "./stack-input.js";

const iso = (duration: string) => {
  const m = /^PT(?:(\d+)M)?(?:(\d+)S)?$/.exec(duration);
  if (!m) throw new Error(`not a minutes/seconds duration: ${duration}`);
  return Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0);
};

describe("Service Bus queues", () => {
  it("one queue per queue the code names, each with deliberate delivery settings", async () => {
    const { resources } = await runWithMocks(() => portcullisStack(stackInput({})), "queues");
    const queues = ofType(resources, "azure-native:servicebus:Queue").map((q) => q.inputs);
    expect(queues.map((q) => q.queueName).sort()).toEqual([...QUEUE_NAMES].sort());
    const maxDeliveries = readSettings({}).PORTCULLIS_MAX_DELIVERIES;
    for (const q of queues) {
      // The code fails the scan on its last delivery; Service Bus must dead-letter on that same one.
      expect(q.maxDeliveryCount, q.queueName).toBe(maxDeliveries);
      expect(q.requiresDuplicateDetection, q.queueName).toBe(true);
      // Long enough to catch a retried send, shorter than the hour after which rescan ids repeat.
      expect(iso(q.duplicateDetectionHistoryTimeWindow)).toBeGreaterThanOrEqual(60);
      expect(iso(q.duplicateDetectionHistoryTimeWindow)).toBeLessThan(3600);
      expect(q.deadLetteringOnMessageExpiration, q.queueName).toBe(true);
      // Nothing in the code relies on sessions or partitions.
      expect(q.requiresSession).toBe(false);
      expect(q.enablePartitioning).toBe(false);
      // Service Bus accepts 5 s to 5 min.
      expect(iso(q.lockDuration)).toBeGreaterThanOrEqual(5);
      expect(iso(q.lockDuration)).toBeLessThanOrEqual(300);
    }
    const lock = (name: string) => iso(queues.find((q) => q.queueName === name)!.lockDuration);
    // Layer analysis (download and unpack) holds a message longest; the verdict writes rows only.
    expect(lock("layer-analysis")).toBe(300);
    expect(lock("layer-analysis")).toBeGreaterThan(lock("verdict"));
  });

  it("a queue the code adds later gets the same guarantees with a short default lock", () => {
    const later = queueSettings("a-later-stage" as (typeof QUEUE_NAMES)[number], 5);
    expect(later).toMatchObject({
      queueName: "a-later-stage",
      maxDeliveryCount: 5,
      requiresDuplicateDetection: true,
    });
    expect(iso(String(later.lockDuration))).toBe(60);
  });

  it("the delivery count follows PORTCULLIS_MAX_DELIVERIES when the stack sets it", async () => {
    const { resources } = await runWithMocks(
      () => portcullisStack(stackInput({ configured: { PORTCULLIS_MAX_DELIVERIES: "9" } })),
      "deliveries",
    );
    for (const q of ofType(resources, "azure-native:servicebus:Queue"))
      expect(q.inputs.maxDeliveryCount).toBe(9);
  });
});

describe("Event Grid per watched registry", () => {
  it("two registries: two system topics, two filtered subscriptions, two AcrPull grants", async () => {
    const registries = [acr("prod"), acr("staging", "other-group")];
    const { resources } = await runWithMocks(
      () => portcullisStack(stackInput({ registries })),
      "two-registries",
    );
    const topics = ofType(resources, "azure-native:eventgrid:SystemTopic");
    expect(topics.map((t) => t.inputs.source).sort()).toEqual(registries.map((r) => r.resourceId).sort());
    for (const t of topics) expect(t.inputs.topicType).toBe("Microsoft.ContainerRegistries");

    const subscriptions = ofType(resources, "azure-native:eventgrid:SystemTopicEventSubscription");
    expect(subscriptions).toHaveLength(2);
    const app = ofType(resources, "azure-native:web:WebApp")[0]!;
    const deadLetter = ofType(resources, "azure-native:storage:BlobContainer").find(
      (c) => c.inputs.containerName === "eventgrid-deadletter",
    )!;
    const account = ofType(resources, "azure-native:storage:StorageAccount")[0]!;
    const eventsIdentity = ofType(resources, "azure-native:managedidentity:UserAssignedIdentity").find(
      (r) => r.name === "events-identity",
    )!;
    for (const s of subscriptions) {
      expect(s.inputs.filter.includedEventTypes.sort()).toEqual([
        "Microsoft.ContainerRegistry.ImageDeleted",
        "Microsoft.ContainerRegistry.ImagePushed",
      ]);
      expect(s.inputs.destination).toMatchObject({
        endpointType: "AzureFunction",
        resourceId: `${app.id}/functions/${EVENT_GRID_FUNCTION}`,
      });
      expect(s.inputs.retryPolicy.maxDeliveryAttempts).toBeGreaterThan(1);
      expect(s.inputs.retryPolicy.eventTimeToLiveInMinutes).toBeGreaterThanOrEqual(60);
      // Dead-lettering signs in as the topic's identity: the account takes no keys.
      expect(s.inputs.deadLetterDestination).toBeUndefined();
      expect(s.inputs.deadLetterWithResourceIdentity).toEqual({
        identity: { type: "UserAssigned", userAssignedIdentity: eventsIdentity.id },
        deadLetterDestination: {
          endpointType: "StorageBlob",
          resourceId: account.id,
          blobContainerName: deadLetter.inputs.containerName,
        },
      });
    }
    for (const t of topics)
      expect(Object.keys(t.inputs.identity.userAssignedIdentities)).toEqual([eventsIdentity.id]);

    const pulls = ofType(resources, "azure-native:authorization:RoleAssignment").filter(
      (r) => r.inputs.roleDefinitionId === ROLE_ID(ROLES.acrPull),
    );
    expect(pulls.map((p) => p.inputs.scope).sort()).toEqual(registries.map((r) => r.resourceId).sort());
    for (const p of pulls) expect(p.inputs.principalId).toBe("principal-of-app-identity");
  });

  it("no registries: no topic, no subscription, no AcrPull and no Event Grid identity", async () => {
    const { resources } = await runWithMocks(() => portcullisStack(stackInput({})), "no-registries");
    expect(ofType(resources, "azure-native:eventgrid:SystemTopic")).toEqual([]);
    expect(ofType(resources, "azure-native:eventgrid:SystemTopicEventSubscription")).toEqual([]);
    expect(
      ofType(resources, "azure-native:authorization:RoleAssignment").filter(
        (r) => r.inputs.roleDefinitionId === ROLE_ID(ROLES.acrPull),
      ),
    ).toEqual([]);
    expect(resources.find((r) => r.name === "events-identity")).toBeUndefined();
  });
});
