import type { TimerFunctionOptions } from "@azure/functions";
import { JOB_SCHEDULES, type JobName, ncrontab } from "../shared/stages/jobs/schedules.js";
import { runtime } from "./runtime.js";

/** A timer job on its shared schedule (the local host runs the same job on the same cadence). */
export function timerOptions(job: JobName): TimerFunctionOptions {
  return {
    schedule: ncrontab(JOB_SCHEDULES[job].cadence),
    handler: async () => {
      const { jobs } = await runtime();
      await jobs[job]();
    },
  };
}
