import { parseGhcrEvent } from "../hooks/ghcr.js";
import { verifyGitHubSignature } from "../hooks/github-signature.js";
import { headerValue } from "../hooks/headers.js";
import type { HttpDeps } from "./http-deps.js";
import { errorResponse, type RouteRequest, type RouteResponse } from "./http-types.js";
import { acceptPushes } from "./push-intake.js";
import { parsePushBody } from "./registry-hook.js";
import { githubIssueEvent, ISSUE_EVENT_NAMES } from "../hooks/github-issue-events.js";

const PACKAGE_EVENTS = new Set(["registry_package", "package"]);

/**
 * `POST /api/hooks/github`: verified on the raw bytes first; GHCR package pushes start scans,
 * `ping` is acknowledged, every other event (issues, comments — later) is accepted and ignored.
 */
export async function githubHook(req: RouteRequest, deps: HttpDeps): Promise<RouteResponse> {
  const secret = deps.githubWebhookSecret ?? "";
  if (!(await verifyGitHubSignature(secret, req.rawBody, headerValue(req.headers, "x-hub-signature-256"))))
    return errorResponse(
      401,
      secret ? "missing or wrong X-Hub-Signature-256" : "no GitHub webhook secret configured",
    );
  const event = headerValue(req.headers, "x-github-event") ?? "";
  if (event === "ping") return { status: 200, body: { ok: true } };
  if (ISSUE_EVENT_NAMES.has(event)) return githubIssueEvent(event, req, deps);
  if (!PACKAGE_EVENTS.has(event)) return { status: 202, body: { ignored: event || "unnamed event" } };
  const parsed = parsePushBody(parseGhcrEvent, req);
  if (!parsed.ok) return parsed.response;
  return acceptPushes(parsed.events, deps);
}
