import type { Command } from "commander";
import { readSetting } from "../../composition/settings.js";
import { callServer, DEFAULT_SERVER, type ServerOptions } from "../server-api.js";
import { UsageError } from "../usage-error.js";
import { ScanError } from "../../model/errors.js";

interface RescanOptions {
  repository: string;
  allDigests?: boolean;
  since?: string;
  server: string;
  token?: string;
  functionKey?: string;
  format: "table" | "json";
  wait: boolean;
  timeout: string;
}

interface RescanImageView {
  registry: string;
  repository: string;
  digest: string;
  state: string;
  decision?: string;
  reason?: string;
}

/**
 * `portcullis rescan --repository <registry/repo> [--all-digests] [--since <date>] [--server URL]`:
 * asks a running portcullis to re-match a repository's stored digests against the current DB and
 * shows the progress until every verdict has landed (or failed).
 */
export function registerRescan(program: Command): void {
  program
    .command("rescan")
    .description("re-match every stored digest of a repository on a running server (historical rescan)")
    .requiredOption(
      "--repository <registry/repo>",
      'the repository, as the images API names it, or "*" for all',
    )
    .option("--all-digests", "stale digests too (no tag points at them any more)")
    .option("--since <date>", "only images first scanned at or after this date (ISO 8601)")
    .option("--server <url>", "the running portcullis (serve, or the Function App)", DEFAULT_SERVER)
    .option("--token <token>", "the hook token (default $PORTCULLIS_HOOK_TOKEN)")
    .option("--function-key <key>", "the Function App's function key (Azure)")
    .option("--format <format>", "table or json", "table")
    .option("--no-wait", "print the rescan id and return at once")
    .option("--timeout <seconds>", "give up waiting after this long", "3600")
    .action(async (options: RescanOptions) => {
      if (options.format !== "table" && options.format !== "json")
        throw new UsageError(`--format must be table or json, not ${options.format}`);
      if (options.since !== undefined && !Number.isFinite(Date.parse(options.since)))
        throw new UsageError(`--since: not a date: ${options.since}`);
      const timeoutMs = Number(options.timeout) * 1000;
      if (!Number.isFinite(timeoutMs) || timeoutMs <= 0)
        throw new UsageError(`--timeout: not a number of seconds`);
      const token = options.token ?? readSetting("PORTCULLIS_HOOK_TOKEN");
      const access: ServerOptions = {
        server: options.server,
        ...(token ? { token } : {}),
        ...(options.functionKey ? { functionKey: options.functionKey } : {}),
      };
      // callServer turns every refusal (auth, no such route, a bad request) into an error that says what to do
      const started = {
        body: await callServer(access, "POST", "rescans", {
          repository: options.repository,
          ...(options.allDigests ? { allDigests: true } : {}),
          ...(options.since ? { since: options.since } : {}),
        }),
      };
      const rescanId = String(started.body.rescanId);
      process.stderr.write(
        started.body.queued === undefined
          ? `rescan ${rescanId}: queuing every repository's images\n`
          : `rescan ${rescanId}: ${String(started.body.queued)} image(s) queued\n`,
      );
      if (!options.wait) {
        process.stdout.write(`${options.format === "json" ? JSON.stringify(started.body) : rescanId}\n`);
        return;
      }
      const deadline = Date.now() + timeoutMs;
      let last = "";
      for (;;) {
        const progress = { body: await callServer(access, "GET", `rescans/${rescanId}`) };
        const counts = progress.body.counts as Record<string, number>;
        const line = `rescan ${rescanId}: ${counts.done} verdict(s) landed, ${counts.failed} failed, ${counts.queued} queued${counts.stale ? `, ${counts.stale} stale` : ""}`;
        if (line !== last) process.stderr.write(`${line}\n`);
        last = line;
        if (progress.body.finished === true) {
          printResult(progress.body, options.format);
          if ((counts.failed ?? 0) > 0 || progress.body.status === "failed") process.exitCode = 1;
          return;
        }
        if (Date.now() > deadline)
          throw new ScanError(
            "rescan-timeout",
            `rescan ${rescanId}: still running after ${options.timeout} s`,
          );
        await new Promise((r) => setTimeout(r, 1000));
      }
    });
}

function printResult(body: Record<string, unknown>, format: "table" | "json"): void {
  if (format === "json") {
    process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
    return;
  }
  const images = (body.images as RescanImageView[]) ?? [];
  for (const image of images) {
    const what = image.state === "done" ? (image.decision ?? "") : (image.reason ?? "");
    process.stdout.write(
      `${image.registry}/${image.repository}@${image.digest}\t${image.state}${what ? `\t${what}` : ""}\n`,
    );
  }
  if (body.status === "failed") process.stdout.write(`queuing failed: ${String(body.reason ?? "")}\n`);
}
