import { parseAcrWebhook } from "../hooks/acr-webhook.js";
import { parseDistributionEvents } from "../hooks/distribution.js";
import { parseHarborEvent } from "../hooks/harbor.js";
import { dbRefreshRoute } from "./db-refresh-route.js";
import { eventGridHook } from "./event-grid-hook.js";
import { gateRoute } from "./gate-route.js";
import { githubHook } from "./github-hook.js";
import { healthRoute } from "./health-route.js";
import type { HttpDeps } from "./http-deps.js";
import type { RouteHandler } from "./http-types.js";
import { imageReportRoute, listImagesRoute } from "./image-routes.js";
import { manualScan } from "./manual-scan.js";
import { registryHook } from "./registry-hook.js";
import { rescanStatusRoute, startRescanRoute } from "./rescan-routes.js";
import { scanStatus } from "./scan-status.js";

export type HttpMethod = "GET" | "POST" | "OPTIONS";

/**
 * One HTTP route, described once for both hosts: the local host's router matches `route` under
 * `/api/`, and `functions/` registers it with the same template, methods and auth level.
 */
export interface RouteDefinition {
  /** the Functions function name */
  name: string;
  /** a Functions route template under the `api` prefix: `{name}` one segment, `{*name}` the rest */
  route: string;
  methods: readonly HttpMethod[];
  /** hooks check their own token or signature; the query API sits behind a function key in Azure */
  authLevel: "anonymous" | "function";
  /** the local host asks for the hook token even on loopback (work an operator starts, not a query) */
  localAuth?: "hook-token";
  handle: RouteHandler<HttpDeps>;
}

export const ROUTES = {
  hookDistribution: {
    name: "hookDistribution",
    route: "hooks/distribution",
    methods: ["POST"],
    authLevel: "anonymous",
    handle: registryHook(parseDistributionEvents),
  },
  hookAcr: {
    name: "hookAcr",
    route: "hooks/acr",
    methods: ["POST"],
    authLevel: "anonymous",
    handle: registryHook(parseAcrWebhook),
  },
  hookEventGrid: {
    name: "hookEventGrid",
    route: "hooks/eventgrid",
    methods: ["POST", "OPTIONS"],
    authLevel: "anonymous",
    handle: eventGridHook,
  },
  hookHarbor: {
    name: "hookHarbor",
    route: "hooks/harbor",
    methods: ["POST"],
    authLevel: "anonymous",
    handle: registryHook(parseHarborEvent),
  },
  hookGitHub: {
    name: "hookGitHub",
    route: "hooks/github",
    methods: ["POST"],
    authLevel: "anonymous",
    handle: githubHook,
  },
  startScan: {
    name: "startScan",
    route: "scans",
    methods: ["POST"],
    authLevel: "function",
    handle: manualScan,
  },
  scanStatus: {
    name: "scanStatus",
    route: "scans/{scanId}",
    methods: ["GET"],
    authLevel: "function",
    handle: scanStatus,
  },
  listImages: {
    name: "listImages",
    route: "images",
    methods: ["GET"],
    authLevel: "function",
    handle: listImagesRoute,
  },
  imageReport: {
    name: "imageReport",
    route: "images/{*path}",
    methods: ["GET"],
    authLevel: "function",
    handle: imageReportRoute,
  },
  gate: { name: "gate", route: "gate", methods: ["GET"], authLevel: "function", handle: gateRoute },
  dbRefresh: {
    name: "dbRefresh",
    route: "db/refresh",
    methods: ["POST"],
    authLevel: "function",
    localAuth: "hook-token",
    handle: dbRefreshRoute,
  },
  startRescan: {
    name: "startRescan",
    route: "rescans",
    methods: ["POST"],
    authLevel: "function",
    localAuth: "hook-token",
    handle: startRescanRoute,
  },
  rescanStatus: {
    name: "rescanStatus",
    route: "rescans/{rescanId}",
    methods: ["GET"],
    authLevel: "function",
    handle: rescanStatusRoute,
  },
  // Load balancers and uptime probes carry no function key.
  health: { name: "health", route: "health", methods: ["GET"], authLevel: "anonymous", handle: healthRoute },
} as const satisfies Record<string, RouteDefinition>;

export const ROUTE_LIST: readonly RouteDefinition[] = Object.values(ROUTES);
