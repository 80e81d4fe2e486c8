import type { InvocationContext, ServiceBusQueueFunctionOptions } from "@azure/functions";
import { runTriggeredMessage } from "../shared/stages/dispatch.js";
import type { StageQueue } from "../shared/stages/stage-queues.js";
import { runtime } from "./runtime.js";

/** The app setting prefix of the identity-based Service Bus connection (`…__fullyQualifiedNamespace`). */
export const SERVICE_BUS_CONNECTION = "ServiceBusConnection";

/** A stage behind a Service Bus queue trigger; completion, retry and dead-lettering are the runtime's. */
export function serviceBusOptions(queue: StageQueue): ServiceBusQueueFunctionOptions {
  return {
    connection: SERVICE_BUS_CONNECTION,
    queueName: queue,
    handler: async (message: unknown, context: InvocationContext) => {
      const { pipeline, settings } = await runtime();
      const deliveryCount = Number(context.triggerMetadata?.deliveryCount ?? 1);
      await runTriggeredMessage(
        queue,
        message,
        { deliveryCount, maxDeliveries: settings.PORTCULLIS_MAX_DELIVERIES },
        pipeline,
      );
    },
  };
}
