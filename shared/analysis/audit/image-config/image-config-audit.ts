import type { MisconfigurationEvidence, MisconfigurationMatch } from "../../../model/report.js";
import { misconfiguration } from "../check-catalog.js";
import { findSecret } from "./secret-patterns.js";

/** Bounds for hostile configs: the registry already caps the blob's size, this caps the work on it. */
const MAX_ITEMS = 10_000;
const MAX_TEXT = 64 * 1024;

/**
 * The image config's checks (CIS Docker Benchmark §4): runs as root, secrets in Env, labels or
 * history, no HEALTHCHECK. The evidence names where a secret is and what kind, never its value.
 */
export function auditImageConfig(
  config: Record<string, unknown>,
  os: string | undefined,
): MisconfigurationMatch[] {
  const out: MisconfigurationMatch[] = [];
  const run = record(config.config);
  const windows = (os ?? text(config.os))?.toLowerCase() === "windows";

  const user = text(run.User)?.trim() ?? "";
  const name = user.split(":")[0]!;
  const root = windows
    ? user === "" || name.toLowerCase() === "containeradministrator"
    : user === "" || name === "0" || name === "root";
  if (root)
    out.push(
      misconfiguration(
        "PCS-IMG-0001",
        [
          {
            location: "image config",
            key: "config.User",
            found: user === "" ? "not set (runs as the base image's default, root)" : user,
          },
        ],
        dockerfile(windows ? "USER ContainerUser" : "USER 10001:10001"),
      ),
    );

  const secrets: MisconfigurationEvidence[] = [];
  const scan = (key: string, value: string) => {
    const kind = findSecret(value.slice(0, MAX_TEXT));
    if (kind !== undefined) secrets.push({ location: "image config", key, found: kind });
  };
  for (const [i, entry] of list(run.Env).entries())
    if (typeof entry === "string") scan(`config.Env[${i}]`, entry);
  for (const [label, value] of Object.entries(record(run.Labels)).slice(0, MAX_ITEMS))
    if (typeof value === "string") scan(`config.Labels[${JSON.stringify(label)}]`, `${label}=${value}`);
  for (const [i, step] of list(config.history).entries()) {
    const createdBy = text(record(step).created_by);
    if (createdBy !== undefined) scan(`history[${i}].created_by`, createdBy);
  }
  if (secrets.length > 0)
    out.push(
      misconfiguration(
        "PCS-IMG-0002",
        secrets,
        dockerfile(
          "# rotate the exposed secret; pass it at build time with RUN --mount=type=secret and at run time from a secret store, never ENV, LABEL or ARG",
        ),
      ),
    );

  const test = list(record(run.Healthcheck).Test);
  if (test.length === 0 || test[0] === "NONE")
    out.push(
      misconfiguration(
        "PCS-IMG-0003",
        [
          {
            location: "image config",
            key: "config.Healthcheck",
            found: test[0] === "NONE" ? "disabled (NONE)" : "not set",
          },
        ],
        dockerfile(
          windows ? 'HEALTHCHECK CMD ["powershell", "-Command", "exit 0"]' : 'HEALTHCHECK CMD ["/bin/true"]',
        ),
      ),
    );
  return out;
}

const dockerfile = (script: string) => ({ shell: "dockerfile" as const, script });
const record = (v: unknown): Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v.slice(0, MAX_ITEMS) : []);
const text = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
