import type { EventGridFunctionOptions } from "@azure/functions";
import { acceptEventGridEvent } from "../shared/hooks/event-grid-trigger.js";
import { runtime } from "./runtime.js";

/** The one function that is neither a route, a stage nor a job: ACR ImagePushed through an Event Grid trigger. */
export const EVENT_GRID_FUNCTION = "eventGridImagePushed";

export const eventGridOptions: EventGridFunctionOptions = {
  handler: async (event) => {
    await acceptEventGridEvent(event, (await runtime()).http);
  },
};
