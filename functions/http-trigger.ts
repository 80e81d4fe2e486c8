import type { HttpFunctionOptions, HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import {
  errorResponse,
  type RouteResponse,
  responseBytes,
  thrownResponse,
} from "../shared/http/http-types.js";
import { MAX_BODY_BYTES } from "../shared/http/json-body.js";
import type { RouteDefinition } from "../shared/http/routes.js";
import { runtime } from "./runtime.js";

/** The Functions registration of a shared route: same template, methods and auth level as the local host. */
export function httpOptions(route: RouteDefinition): HttpFunctionOptions {
  return {
    route: route.route,
    methods: [...route.methods],
    authLevel: route.authLevel,
    handler: (request, context) => handleHttp(route, request, context),
  };
}

async function handleHttp(
  route: RouteDefinition,
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  let answer: RouteResponse;
  const declared = Number(request.headers.get("content-length") ?? 0);
  if (declared > MAX_BODY_BYTES) {
    answer = errorResponse(413, `body larger than ${MAX_BODY_BYTES} bytes`);
  } else {
    const rawBody = Buffer.from(await request.arrayBuffer());
    const { http } = await runtime();
    try {
      answer = await route.handle(
        {
          method: request.method,
          path: new URL(request.url).pathname,
          query: request.query,
          headers: request.headers,
          rawBody,
          params: { ...request.params },
        },
        http,
      );
    } catch (err) {
      const thrown = thrownResponse(err);
      if (thrown.internal) context.error(`${route.name}: ${(err as Error).stack ?? String(err)}`);
      answer = thrown.response;
    }
  }
  const { body, contentType } = responseBytes(answer);
  return {
    status: answer.status,
    headers: { ...(contentType ? { "Content-Type": contentType } : {}), ...answer.headers },
    ...(body ? { body } : {}),
  };
}
