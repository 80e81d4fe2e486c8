import { app } from "@azure/functions";
import { serviceBusOptions } from "../queue-trigger.js";

app.serviceBusQueue("stageMatching", serviceBusOptions("matching"));
