import type { TimerFunctionOptions } from "@azure/functions";
import { jobCadence } from "../shared/composition/timer-jobs.js";
import { type JobName, ncrontab } from "../shared/stages/jobs/schedules.js";
import { runtime } from "./runtime.js";

/** A timer job on its shared schedule (the local host runs the same job on the same cadence). */
export function timerOptions(job: JobName): TimerFunctionOptions {
  return {
    schedule: ncrontab(jobCadence(job)),
    handler: async () => {
      const { jobs } = await runtime();
      await jobs[job]();
    },
  };
}
