import { app } from "@azure/functions";
import { serviceBusOptions } from "../queue-trigger.js";

app.serviceBusQueue("stageVerdict", serviceBusOptions("verdict"));
