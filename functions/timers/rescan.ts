import { app } from "@azure/functions";
import { enqueueRescans } from "../../shared/composition/scheduled-rescan.js";
import { runtime } from "../runtime.js";
import { RESCAN_SCHEDULE } from "./schedules.js";

app.timer("rescanTimer", {
  schedule: RESCAN_SCHEDULE,
  handler: async () => {
    const { pipeline, settings } = await runtime();
    const runId = pipeline
      .now()
      .toISOString()
      .slice(0, 13)
      .replace(/[^0-9]/g, "");
    await enqueueRescans(pipeline, { olderThanHours: settings.PORTCULLIS_RESCAN_AFTER_HOURS, runId });
  },
});
