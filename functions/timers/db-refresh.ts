import { app } from "@azure/functions";
import { refreshDbAndRescan } from "../../shared/composition/db-refresh.js";
import { runtime } from "../runtime.js";
import { DB_REFRESH_SCHEDULE } from "./schedules.js";

app.timer("dbRefreshTimer", {
  schedule: DB_REFRESH_SCHEDULE,
  handler: async () => {
    const { pipeline, settings } = await runtime();
    await refreshDbAndRescan(pipeline, pipeline.blobs, {
      ...(settings.PORTCULLIS_DB_URL ? { baseUrl: settings.PORTCULLIS_DB_URL } : {}),
      ...(settings.PORTCULLIS_DB_ECOSYSTEMS.length ? { ecosystems: settings.PORTCULLIS_DB_ECOSYSTEMS } : {}),
    });
  },
});
