import { runTool } from "./run-tool.js";

export interface PushOptions {
  /** copy every image of an index (`skopeo copy --all`) */
  all?: boolean;
  creds?: { username: string; password: string };
}

/**
 * Pushes an image with the real `skopeo copy` to a plain-HTTP registry, keeping digests.
 * `source` is a skopeo reference (`oci:<dir>:<tag>`, `docker-archive:<file>` …), `dest` is
 * `host:port/repo:tag` (with or without `docker://`).
 */
export async function pushImage(source: string, dest: string, options: PushOptions = {}): Promise<void> {
  const args = ["copy", "--quiet", "--dest-tls-verify=false", "--preserve-digests", "--retry-times", "2"];
  if (options.all) args.push("--all");
  if (options.creds) args.push("--dest-creds", `${options.creds.username}:${options.creds.password}`);
  args.push(source, dest.startsWith("docker://") ? dest : `docker://${dest}`);
  await runTool("skopeo", args, { timeoutMs: 300_000 });
}
