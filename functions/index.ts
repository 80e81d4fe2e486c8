// The Functions entry point (package.json "main": dist/functions/index.js): every function is
// registered here from the shared lists — routes, stage queues, timer jobs — and nothing is listed twice.
import { app } from "@azure/functions";
import { ROUTE_LIST } from "../shared/http/routes.js";
import { JOB_NAMES, JOB_SCHEDULES } from "../shared/stages/jobs/schedules.js";
import { STAGE_QUEUES, STAGES } from "../shared/stages/stage-queues.js";
import { EVENT_GRID_FUNCTION, eventGridOptions } from "./event-grid-trigger.js";
import { httpOptions } from "./http-trigger.js";
import { serviceBusOptions } from "./queue-trigger.js";
import { timerOptions } from "./timer-trigger.js";

for (const route of ROUTE_LIST) app.http(route.name, httpOptions(route));
app.eventGrid(EVENT_GRID_FUNCTION, eventGridOptions);
for (const queue of STAGE_QUEUES) app.serviceBusQueue(STAGES[queue].functionName, serviceBusOptions(queue));
for (const job of JOB_NAMES) app.timer(JOB_SCHEDULES[job].functionName, timerOptions(job));
