import type { ContentFinding } from "../model/content.js";
import type { ScanWarning } from "../model/inventory.js";
import type { Verdict } from "../model/report.js";

/**
 * The default content policy: confirmed malware and every integrity mismatch block (an edited
 * package database makes the vulnerability verdict itself untrustworthy); everything else is reported.
 */
export function contentTier(finding: ContentFinding): "block" | "report" {
  if (finding.category === "integrity") return "block";
  if (finding.category === "malware" && finding.confidence === "confirmed") return "block";
  return "report";
}

/** Content findings with their tier, and the verdict they make together with the vulnerability verdict. */
export function decideContent(
  findings: readonly ContentFinding[],
  verdict: Verdict,
  warnings: readonly ScanWarning[] = [],
): { findings: ContentFinding[]; verdict: Verdict } {
  const tiered = findings.map((f) => ({ ...f, tier: contentTier(f) }));
  const blocking = tiered.filter((f) => f.tier === "block");
  const reported = tiered.filter((f) => f.tier === "report");
  const reasons = [...verdict.reasons];
  if (blocking.length > 0) reasons.unshift(`block: ${describeContent(blocking)}`);
  if (reported.length > 0) reasons.push(`report: ${describeContent(reported)}`);
  // a second engine that could not look is said in the verdict, never passed over in silence
  const unscanned = warnings.filter((w) => w.code === "clamd-unavailable").length;
  if (unscanned > 0)
    reasons.push(
      `content: clamd could not scan ${unscanned} layer${unscanned === 1 ? "" : "s"}; one engine only`,
    );
  const decision = blocking.length > 0 ? "block" : verdict.decision;
  return { findings: tiered, verdict: { decision, reasons } };
}

/** "2 content findings (integrity: /usr/bin/ls, /var/lib/dpkg/status)" */
export function describeContent(findings: readonly ContentFinding[], maxPaths = 5): string {
  const categories = [...new Set(findings.map((f) => f.category))].join("/");
  const paths = [...new Set(findings.map((f) => f.path))];
  const shown =
    paths.slice(0, maxPaths).join(", ") +
    (paths.length > maxPaths ? `, … ${paths.length - maxPaths} more` : "");
  const noun = findings.length === 1 ? "content finding" : "content findings";
  return `${findings.length} ${noun} (${categories}: ${shown})`;
}
