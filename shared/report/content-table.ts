import type { Report } from "../model/report.js";
import { type painter, terminalSafe } from "./terminal-text.js";

/** The table's content section: each finding's tier, category, confidence, rule and path, then its evidence. */
export function contentSection(report: Report, paint: ReturnType<typeof painter>): string[] {
  if (report.content === undefined) return [];
  const out = [
    "",
    paint("bold", `CONTENT — malware, persistence, secrets, tampering (${report.content.length})`),
  ];
  if (report.content.length === 0) out.push("No content findings.");
  for (const f of report.content) {
    const tier = (f.tier ?? "report").toUpperCase();
    out.push(
      `  ${paint(tier === "BLOCK" ? "boldRed" : "dim", tier.padEnd(6))}  ${f.category.padEnd(11)}  ${f.confidence.padEnd(9)}  ${terminalSafe(f.rule)}  ${terminalSafe(f.path)}`,
    );
    out.push(`          ${terminalSafe(f.summary)}`);
    if (f.suppressed !== undefined)
      out.push(
        `          suppressed (${f.suppressed.kind}): ${terminalSafe(f.suppressed.reason)}${f.suppressed.expires === undefined ? "" : `, until ${f.suppressed.expires}`}`,
      );
    for (const e of f.evidence) out.push(paint("dim", `          - ${terminalSafe(e)}`));
    const where = `layer ${f.layer}${f.sha256 === undefined ? "" : `, sha256 ${f.sha256}`}`;
    out.push(paint("dim", `          ${terminalSafe(where)} · engines: ${f.engines.join(", ")}`));
  }
  return out;
}
