import type { Command } from "commander";
import { matchInventory } from "../../matching/match.js";
import { formatPlatform } from "../../model/image.js";
import { FsBlobStore } from "../../ports/fs-blob-store.js";
import { loadPolicy } from "../../policy/load-policy.js";
import { loadVexDocuments } from "../../policy/vex.js";
import { dockerConfigPath, loadDockerConfigCredentials } from "../../registry/docker-config.js";
import { openImageSource } from "../../registry/open-image-source.js";
import { makeReport } from "../../stages/make-report.js";
import { DEFAULT_GITHUB_WEB_URL } from "../../tracking/github-client.js";
import { imageLabels } from "../../tracking/image-labels.js";
import { streamOf } from "../../tracking/image-stream.js";
import { type LoadedImage, renderStreamIssue } from "../../tracking/stream-issue.js";
import { chooseTarget } from "../../tracking/target-repository.js";
import { DEFAULT_TRACKING_CONFIG } from "../../policy/tracking-config.js";
import { readSetting } from "../../composition/settings.js";
import { ensureDb } from "../../vulndb/db-update.js";
import { collectInventories } from "../collect-inventories.js";
import { addImageOptions, type ImageOptions } from "../image-options.js";
import { UsageError } from "../usage-error.js";
import { resolveFeedOptions } from "./db.js";
import { ScanError } from "../../model/errors.js";

interface TrackOptions extends ImageOptions {
  dryRun?: boolean;
  policy?: string;
  offline?: boolean;
  skipDbUpdate?: boolean;
  githubUrl: string;
}

/**
 * `portcullis track <image> --dry-run`: scans the image and prints the tracking issue the pipeline
 * would write for it — where it would go, its title, labels and body — without calling GitHub.
 */
export function registerTrack(program: Command): void {
  addImageOptions(
    program
      .command("track")
      .description("print the GitHub tracking issue a scan of the image would write (title, labels, body)")
      .argument(
        "<image>",
        "registry/repo[:tag|@digest], oci:<dir>[:tag], oci-archive:<file>[:tag], docker-archive:<file>",
      )
      .option("--dry-run", "print the issue; nothing is written to GitHub (required)")
      .option(
        "--policy <file>",
        "policy file with the tracking: section (default ./portcullis.yaml when present)",
      )
      .option("--offline", "never download the vulnerability DB; use the one in the cache")
      .option("--skip-db-update", "use the cached DB however old")
      .option(
        "--github-url <url>",
        "the GitHub web host image source labels must name",
        readSetting("PORTCULLIS_GITHUB_URL") ?? DEFAULT_GITHUB_WEB_URL,
      ),
  ).action(async (image: string, opts: TrackOptions) => {
    if (!opts.dryRun)
      throw new UsageError(
        "track only previews: pass --dry-run (the pipeline's tracking stage writes the issues)",
      );
    const loaded = await loadPolicy(opts.policy ? { path: opts.policy } : {});
    const vex = await loadVexDocuments(loaded.policy.vex ?? [], loaded.baseDir);
    const config = loaded.policy.tracking ?? DEFAULT_TRACKING_CONFIG;
    const db = await ensureDb(new FsBlobStore(opts.cacheDir), {
      offline: Boolean(opts.offline),
      skipUpdate: Boolean(opts.skipDbUpdate),
      // the same feeds and mirrors as scan and db update (an air-gapped site's settings hold here too)
      ...(opts.offline ? {} : resolveFeedOptions({})),
    });
    const stamp = { version: db.metadata.version, updatedAt: db.metadata.updatedAt };
    const inventories = await collectInventories(
      image,
      opts,
      loaded.policy.limits ? { limits: loaded.policy.limits } : {},
    );
    const images: LoadedImage[] = [];
    for (const inventory of inventories) {
      const { report, decision } = makeReport(
        inventory,
        await matchInventory(inventory.packages, db, loaded.policy),
        stamp,
        {
          policy: loaded.policy,
          vex,
        },
      );
      images.push({
        image: {
          platform: formatPlatform(report.image.platform),
          ref: report.image.ref,
          digest: report.image.digest,
          tags: report.image.tags,
          verdict: decision.verdict,
        },
        findings: report.findings,
        layers: inventory.layers,
        problems: [],
      });
    }
    const first = inventories[0]?.image;
    if (!first) throw new ScanError("no-image", `${image}: no platform image to track`);
    let labels: Record<string, string> = {};
    let labelProblem = "";
    try {
      const credentials = await loadDockerConfigCredentials(dockerConfigPath());
      labels = await imageLabels(
        (ref) => openImageSource(ref, { insecureRegistries: opts.insecureRegistry, credentials }),
        image,
      );
    } catch (err) {
      labelProblem = ` (the image's labels could not be read: ${(err as Error).message})`;
    }
    const stream = streamOf(first, first.tags[0], config);
    const choice = chooseTarget(
      { registry: first.registry, repository: first.repository, labels },
      config,
      opts.githubUrl,
    );
    const threshold = choice.tracked ? choice.target.threshold : config.threshold;
    const { rendered } = renderStreamIssue(stream, images, {
      threshold,
      labels: choice.tracked ? choice.target.labels : [],
      firstSeen: {},
      today: new Date().toISOString().slice(0, 10),
    });
    const lines = [
      choice.tracked
        ? `repository: ${choice.target.owner}/${choice.target.repo} (from the ${choice.target.via === "label" ? "image's source label" : "tracking mapping"})`
        : `untracked: ${choice.reason}${labelProblem}`,
      `stream: ${stream.key}`,
      rendered.active.length > 0
        ? `would: open or update the issue (${rendered.active.length} finding(s) at or above ${threshold})`
        : `would: open no issue, and close an open one (nothing at or above ${threshold})`,
      `title: ${rendered.title}`,
      `labels: ${rendered.labels.join(", ")}`,
      "",
      rendered.body,
    ];
    process.stdout.write(`${lines.join("\n")}\n`);
  });
}
