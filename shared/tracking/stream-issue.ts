import type { Finding } from "../model/report.js";
import type { Tier } from "../model/tier.js";
import { planRemediation } from "../policy/remediation/plan.js";
import type { ImageStream } from "./image-stream.js";
import { type RenderedIssue, renderIssue, type StreamImage } from "./render-issue.js";
import { mergeFindings } from "./tracked-findings.js";

/** One image of a stream with its stored report's findings, as tracking and `track --dry-run` read them. */
export interface LoadedImage {
  image: StreamImage;
  findings: Finding[];
  /** the image's layers, base first (for "rebuild on a newer base image") */
  layers: string[];
  /** what could not be read */
  problems: string[];
}

/**
 * The issue a stream's images give: findings merged over platforms, grouped by the action that
 * fixes them; `firstSeen` is completed with `today` for findings not seen before.
 */
export function renderStreamIssue(
  stream: ImageStream,
  images: readonly LoadedImage[],
  options: {
    threshold: Tier;
    labels: readonly string[];
    firstSeen: Readonly<Record<string, string>>;
    today: string;
    reportUrl?: string;
    /** at most this many first-seen dates are kept (the ledger row's size) */
    maxFirstSeen?: number;
  },
): { rendered: RenderedIssue; firstSeen: Record<string, string> } {
  const findings = mergeFindings(images.map((i) => ({ platform: i.image.platform, findings: i.findings })));
  const firstSeen: Record<string, string> = {};
  for (const f of findings.slice(0, options.maxFirstSeen ?? 400))
    firstSeen[f.key] = options.firstSeen[f.key] ?? options.today;
  const rendered = renderIssue({
    stream,
    images: images.map((i) => i.image),
    findings,
    actions: planRemediation(
      findings.map((f) => f.finding),
      { layers: images[0]?.layers ?? [] },
    ).actions,
    threshold: options.threshold,
    firstSeen,
    labels: options.labels,
    ...(options.reportUrl ? { reportUrl: options.reportUrl } : {}),
    problems: images.flatMap((i) => i.problems),
  });
  return { rendered, firstSeen };
}

/** The report link of an image: the configured template with `{registry}`, `{repository}`, `{digest}` filled in. */
export function reportUrlOf(template: string, stream: ImageStream, digest: string): string {
  return template
    .replaceAll("{registry}", encodeURIComponent(stream.registry))
    .replaceAll("{repository}", stream.repository.split("/").map(encodeURIComponent).join("/"))
    .replaceAll("{digest}", digest);
}
