import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { Ajv, type ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";
import { toJsonSchema } from "./openapi-json-schema.js";

/**
 * GitHub's published REST description (`@octokit/openapi`, api.github.com), compiled for ajv: finds
 * the operation of a request and validates its parameters, body and answer.
 */
type Schema = Record<string, unknown>;
interface Parameter {
  name: string;
  in: "path" | "query" | "header";
  required?: boolean;
  schema?: Schema;
}
interface Operation {
  method: string;
  template: string;
  pattern: RegExp;
  names: string[];
  parameters: Parameter[];
  body?: Schema;
  bodyRequired: boolean;
  responses: Record<string, Schema | undefined>;
}

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
const require = createRequire(import.meta.url);

export class GitHubOpenApi {
  private readonly ajv = new Ajv({ strict: false, allErrors: false, validateSchema: false });
  private readonly operations: Operation[] = [];
  private readonly compiled = new Map<object, ValidateFunction>();

  constructor() {
    const file = require.resolve("@octokit/openapi/generated/api.github.com.json");
    const spec = toJsonSchema(JSON.parse(readFileSync(file, "utf8"))) as Schema;
    addFormats(this.ajv);
    this.ajv.addSchema({ ...spec, $id: "gh" });
    const components = spec.components as { parameters: Record<string, Parameter> };
    const deref = (p: Parameter | { $ref: string }): Parameter =>
      "$ref" in p ? components.parameters[p.$ref.split("/").pop()!]! : p;
    for (const [template, item] of Object.entries(spec.paths as Record<string, Record<string, Schema>>)) {
      const names: string[] = [];
      const pattern = new RegExp(
        `^${template.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\\?\{([^}]+)\\?\}/g, (_, n: string) => {
          names.push(n);
          return "([^/]+)";
        })}$`,
      );
      for (const [method, op] of Object.entries(item)) {
        if (!["get", "post", "patch", "put", "delete"].includes(method)) continue;
        const content = (op.requestBody as Schema | undefined)?.content as
          | Record<string, { schema?: Schema }>
          | undefined;
        const responses: Record<string, Schema | undefined> = {};
        for (const [status, r] of Object.entries((op.responses ?? {}) as Record<string, Schema>)) {
          const resolved = r.$ref
            ? (spec.components as Record<string, Record<string, Schema>>).responses![
                String(r.$ref).split("/").pop()!
              ]!
            : r;
          responses[status] = (resolved.content as Record<string, { schema?: Schema }> | undefined)?.[
            "application/json"
          ]?.schema;
        }
        this.operations.push({
          method: method.toUpperCase(),
          template,
          pattern,
          names,
          parameters: [
            ...((item.parameters as unknown as Parameter[]) ?? []),
            ...((op.parameters as Parameter[]) ?? []),
          ].map(deref),
          ...(content?.["application/json"]?.schema ? { body: content["application/json"].schema } : {}),
          bodyRequired: (op.requestBody as Schema | undefined)?.required === true,
          responses,
        });
      }
    }
  }

  /** The operation a request names, with its path parameters; undefined = GitHub has no such route. */
  find(method: string, path: string): { op: Operation; params: Record<string, string> } | undefined {
    let best: { op: Operation; params: Record<string, string> } | undefined;
    for (const op of this.operations) {
      if (op.method !== method) continue;
      const m = op.pattern.exec(path);
      // a literal segment wins over a parameter (`/issues/comments/{id}` over `/issues/{number}/…`)
      if (!m || (best && best.op.names.length <= op.names.length)) continue;
      best = { op, params: Object.fromEntries(op.names.map((n, i) => [n, decodeURIComponent(m[i + 1]!)])) };
    }
    return best;
  }

  /** Problems with a request under the description: an empty list means GitHub would accept its shape. */
  checkRequest(
    op: Operation,
    params: Record<string, string>,
    query: URLSearchParams,
    body: unknown,
  ): string[] {
    const problems: string[] = [];
    for (const p of op.parameters) {
      if (p.in === "header") continue;
      const raw = p.in === "path" ? params[p.name] : (query.get(p.name) ?? undefined);
      if (raw === undefined) {
        if (p.required) problems.push(`missing ${p.in} parameter ${p.name}`);
        continue;
      }
      const value =
        p.schema?.type === "integer" || p.schema?.type === "number"
          ? /^-?\d+(\.\d+)?$/.test(raw)
            ? Number(raw)
            : raw
          : p.schema?.type === "boolean"
            ? raw === "true"
              ? true
              : raw === "false"
                ? false
                : raw
            : raw;
      const check = p.schema ? this.validator(p.schema) : undefined;
      if (check && !check(value))
        problems.push(`${p.in} parameter ${p.name}=${raw}: ${this.ajv.errorsText(check.errors)}`);
    }
    const known = new Set(op.parameters.filter((p) => p.in === "query").map((p) => p.name));
    for (const name of query.keys()) if (!known.has(name)) problems.push(`unknown query parameter ${name}`);
    if (op.body) {
      if (body === undefined) {
        if (op.bodyRequired) problems.push("missing request body");
      } else {
        const check = this.validator(op.body);
        if (!check(body)) problems.push(`request body: ${this.ajv.errorsText(check.errors)}`);
      }
    } else if (body !== undefined && op.method !== "GET")
      problems.push("a body where the operation takes none");
    return problems;
  }

  /** Problems with an answer under the description of that status. */
  checkResponse(op: Operation, status: number, body: unknown): string[] {
    const schema = op.responses[String(status)];
    if (!(String(status) in op.responses))
      return [`status ${status} is not an answer of ${op.method} ${op.template}`];
    if (!schema) return [];
    const check = this.validator(schema);
    return check(body)
      ? []
      : [`response ${status} of ${op.method} ${op.template}: ${this.ajv.errorsText(check.errors)}`];
  }

  private validator(schema: Schema): ValidateFunction {
    let fn = this.compiled.get(schema);
    if (!fn) {
      fn = this.ajv.compile(rebase(schema) as Schema);
      this.compiled.set(schema, fn);
    }
    return fn;
  }
}

/** An inline schema's `#/components/…` references point into the added description (`gh`). */
function rebase(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(rebase);
  if (node === null || typeof node !== "object") return node;
  return Object.fromEntries(
    Object.entries(node).map(([k, v]) => [
      k,
      k === "$ref" && typeof v === "string" && v.startsWith("#") ? `gh${v}` : rebase(v),
    ]),
  );
}

let shared: GitHubOpenApi | undefined;
/** One compiled description per test process: loading it takes a couple of seconds. */
export const githubOpenApi = () => (shared ??= new GitHubOpenApi());
