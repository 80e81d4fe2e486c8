import { app } from "@azure/functions";
import { serviceBusOptions } from "../queue-trigger.js";

app.serviceBusQueue("stageTracking", serviceBusOptions("tracking"));
