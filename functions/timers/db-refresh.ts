import { app } from "@azure/functions";
import { refreshDbAndRescan } from "../../shared/composition/db-refresh.js";
import { dbUpdateOptions } from "../../shared/composition/settings.js";
import { runtime } from "../runtime.js";
import { DB_REFRESH_SCHEDULE } from "./schedules.js";

app.timer("dbRefreshTimer", {
  schedule: DB_REFRESH_SCHEDULE,
  handler: async () => {
    const { pipeline, settings } = await runtime();
    await refreshDbAndRescan(pipeline, pipeline.blobs, dbUpdateOptions(settings));
  },
});
