import { app } from "@azure/functions";
import { ROUTES } from "../../shared/http/routes.js";
import { httpOptions } from "../http-trigger.js";

app.http(ROUTES.hookGitHub.name, httpOptions(ROUTES.hookGitHub));
