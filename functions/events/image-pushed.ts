import { app } from "@azure/functions";
import { acceptEventGridEvent } from "../../shared/composition/event-grid-trigger.js";
import { runtime } from "../runtime.js";

app.eventGrid("eventGridImagePushed", {
  handler: async (event) => {
    await acceptEventGridEvent(event, (await runtime()).http);
  },
});
