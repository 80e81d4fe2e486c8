import * as eventgrid from "@pulumi/azure-native/eventgrid/index.js";
import * as pulumi from "@pulumi/pulumi";
import type { Registry, StackConfig } from "./stack-config.js";

/** The Event Grid trigger `functions/` registers (the packaging test checks the package has it). */
export const EVENT_GRID_FUNCTION = "eventGridImagePushed";
/** What a registry says that portcullis acts on: a push scans, a delete retires the image. */
export const REGISTRY_EVENT_TYPES = [
  "Microsoft.ContainerRegistry.ImagePushed",
  "Microsoft.ContainerRegistry.ImageDeleted",
] as const;
/** Event Grid's retries: 30 tries over a day ride out a cold start or a short outage, then dead-letter. */
export const EVENT_RETRY = { maxDeliveryAttempts: 30, eventTimeToLiveInMinutes: 1440 } as const;

/**
 * For each watched ACR: its system topic and a subscription delivering pushes and deletes to the
 * Event Grid trigger. An Azure Function destination must exist when subscribed, so the
 * subscription depends on the published package (`after`); undeliverable events go to a blob
 * container, written with the topic's own identity because the account takes no keys.
 */
export function registryEvents(args: {
  resourceGroupName: pulumi.Input<string>;
  config: StackConfig;
  registry: Registry;
  functionAppId: pulumi.Input<string>;
  deadLetter: { storageAccountId: pulumi.Input<string>; containerName: string };
  identityId: pulumi.Input<string>;
  after: pulumi.Input<pulumi.Resource>[];
}): { topic: eventgrid.SystemTopic; subscription: eventgrid.SystemTopicEventSubscription } {
  const { resourceGroupName, registry } = args;
  const topic = new eventgrid.SystemTopic(`registry-${registry.name}`, {
    resourceGroupName,
    location: registry.location ?? args.config.location,
    source: registry.resourceId,
    topicType: "Microsoft.ContainerRegistries",
    identity: {
      type: "UserAssigned",
      userAssignedIdentities: pulumi.output(args.identityId).apply((id) => ({ [id]: {} })),
    },
  });
  const subscription = new eventgrid.SystemTopicEventSubscription(
    `registry-${registry.name}-to-functions`,
    {
      resourceGroupName,
      systemTopicName: topic.name,
      destination: {
        endpointType: "AzureFunction",
        resourceId: pulumi.interpolate`${args.functionAppId}/functions/${EVENT_GRID_FUNCTION}`,
        maxEventsPerBatch: 1, // the trigger takes one event per invocation
      },
      filter: { includedEventTypes: [...REGISTRY_EVENT_TYPES] },
      eventDeliverySchema: "EventGridSchema",
      retryPolicy: { ...EVENT_RETRY },
      deadLetterWithResourceIdentity: {
        identity: { type: "UserAssigned", userAssignedIdentity: args.identityId },
        deadLetterDestination: {
          endpointType: "StorageBlob",
          resourceId: args.deadLetter.storageAccountId,
          blobContainerName: args.deadLetter.containerName,
        },
      },
    },
    { dependsOn: args.after },
  );
  return { topic, subscription };
}
