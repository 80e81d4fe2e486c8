import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";

/**
 * GitHub's published webhook payload schemas (`@octokit/openapi-webhooks`, OpenAPI 3.1): test
 * payloads are checked against them before they are sent, so a test never feeds the hook a shape
 * GitHub does not send.
 */
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;
const require = createRequire(import.meta.url);
let ajv: Ajv2020 | undefined;
const compiled = new Map<string, ValidateFunction>();

/** Problems of a payload under `components.schemas[webhook-<name>]` (e.g. "issue-comment-created"). */
export function webhookPayloadProblems(schemaName: string, payload: unknown): string[] {
  if (!ajv) {
    const file = require.resolve("@octokit/openapi-webhooks/generated/api.github.com.json");
    ajv = new Ajv2020({ strict: false, validateSchema: false, allErrors: false });
    addFormats(ajv);
    ajv.addSchema({ ...(JSON.parse(readFileSync(file, "utf8")) as object), $id: "ghw" });
  }
  let check = compiled.get(schemaName);
  if (!check) {
    check = ajv.compile({ $ref: `ghw#/components/schemas/webhook-${schemaName}` });
    compiled.set(schemaName, check);
  }
  return check(payload) ? [] : [ajv.errorsText(check.errors)];
}
