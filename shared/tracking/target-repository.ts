import picomatch from "picomatch";
import type { Tier } from "../model/tier.js";
import type { TrackingConfig } from "../policy/tracking-config.js";

/** Where a stream's issue lives, and how it is labelled. */
export interface IssueTarget {
  owner: string;
  repo: string;
  labels: string[];
  assignees: string[];
  threshold: Tier;
  /** "label" (org.opencontainers.image.source) or "mapping" (portcullis.yaml) */
  via: "label" | "mapping";
}

export type TargetChoice = { tracked: true; target: IssueTarget } | { tracked: false; reason: string };

export const SOURCE_LABEL = "org.opencontainers.image.source";

/**
 * The repository an image's issue goes to: its `org.opencontainers.image.source` label when that
 * names a repository on the configured GitHub host, else the first mapping whose globs match, else
 * none (untracked, with the reason).
 */
export function chooseTarget(
  image: { registry: string; repository: string; labels?: Readonly<Record<string, string>> },
  config: TrackingConfig,
  webUrl: string,
): TargetChoice {
  const fromLabel = repositoryOnHost(image.labels?.[SOURCE_LABEL], webUrl);
  if (fromLabel)
    return {
      tracked: true,
      target: { ...fromLabel, labels: [], assignees: [], threshold: config.threshold, via: "label" },
    };
  const names = [image.repository, `${image.registry}/${image.repository}`];
  const mapping = config.repositories.find((m) => names.some((n) => picomatch.isMatch(n, m.images)));
  if (mapping) {
    const [owner, repo] = mapping.github.split("/") as [string, string];
    return {
      tracked: true,
      target: {
        owner,
        repo,
        labels: mapping.labels,
        assignees: mapping.assignees,
        threshold: mapping.threshold ?? config.threshold,
        via: "mapping",
      },
    };
  }
  const label = image.labels?.[SOURCE_LABEL];
  return {
    tracked: false,
    reason: label
      ? `${SOURCE_LABEL} (${label.slice(0, 200)}) is not a repository on ${webUrl}, and no tracking mapping matches`
      : `no ${SOURCE_LABEL} label and no tracking mapping matches`,
  };
}

/** `https://github.com/owner/repo(.git)(/…)` → owner/repo, when it is on `webUrl`'s host. */
export function repositoryOnHost(
  source: string | undefined,
  webUrl: string,
): { owner: string; repo: string } | undefined {
  if (!source) return undefined;
  let url: URL;
  let base: URL;
  try {
    url = new URL(source.trim());
    base = new URL(webUrl);
  } catch {
    return undefined;
  }
  if (url.host.toLowerCase() !== base.host.toLowerCase()) return undefined;
  const prefix = base.pathname.replace(/\/+$/, "");
  if (!url.pathname.startsWith(`${prefix}/`)) return undefined;
  const [owner, repo] = url.pathname.slice(prefix.length + 1).split("/");
  const name = repo?.replace(/\.git$/, "");
  if (!owner || !name || !/^[A-Za-z0-9-]{1,39}$/.test(owner) || !/^[A-Za-z0-9._-]{1,100}$/.test(name))
    return undefined;
  return { owner, repo: name };
}
