import type { Finding, Report, Severity } from "../model/report.js";
import type { Tier } from "../model/tier.js";
import type { RemediationAction } from "../model/remediation-action.js";
import { contentSection } from "./content-table.js";
import { compareFindings } from "./finding-order.js";
import { TIERS } from "../model/tier.js";
import { misconfigurationLines } from "./misconfiguration-table.js";
import { clip, painter, type Style, stdoutWantsColor, terminalSafe } from "./terminal-text.js";
import { formatImageRef } from "../model/image-reference.js";

export interface TableOptions {
  /** colour escapes; default only when stdout is a TTY and NO_COLOR is unset */
  color?: boolean;
  /** the grouped actions from `decide`; without them, findings sharing a remediation are grouped */
  actions?: readonly RemediationAction[];
}

const TIER_HEADINGS: Record<Tier, string> = {
  block: "BLOCK — fix before this image ships",
  fix: "FIX — schedule the remediation",
  report: "REPORT — no action required yet",
};

const SEVERITY_STYLE: Record<Severity, Style> = {
  critical: "boldRed",
  high: "red",
  medium: "yellow",
  low: "blue",
  unknown: "dim",
};

const DECISION_STYLE = { block: "boldRed", fix: "yellow", pass: "green" } as const;

// long names and versions are cut so one odd package cannot push the id column off the screen
const MAX_PACKAGE = 40;
const MAX_VERSION = 32;

/** The human report: verdict, findings grouped by tier then severity, then the remediation actions. */
export function renderTable(report: Report, options: TableOptions = {}): string {
  const paint = painter(options.color ?? stdoutWantsColor());
  const out: string[] = [];
  const { image } = report;
  const tag = image.tags[0];
  const ref =
    tag === undefined || !image.registry ? image.ref : formatImageRef({ ...image, tag, digest: undefined });
  out.push(`${paint("bold", "Image")}    ${terminalSafe(ref)} (${terminalSafe(image.digest)})`);
  const platform = [image.platform.os, image.platform.architecture, image.platform.variant]
    .filter(Boolean)
    .join("/");
  const os =
    image.os === undefined
      ? ""
      : `${terminalSafe(image.os.name ?? `${image.os.family} ${image.os.version}`)} · `;
  out.push(`${paint("bold", "OS")}       ${os}${platform}`);
  if (report.db !== undefined)
    out.push(`${paint("bold", "DB")}       ${report.db.version} (${report.db.updatedAt})`);
  if (report.verdict !== undefined) {
    const { decision, reasons } = report.verdict;
    out.push(`${paint("bold", "Verdict")}  ${paint(DECISION_STYLE[decision], decision.toUpperCase())}`);
    for (const reason of reasons) out.push(`         ${terminalSafe(reason)}`);
  }

  const findings = [...report.findings].sort(compareFindings);
  const open = findings.filter((f) => f.suppressed === undefined);
  const suppressed = findings.filter((f) => f.suppressed !== undefined);
  const widths = columnWidths(findings);
  if (findings.length === 0) out.push("", "No vulnerabilities found.");

  for (const tier of TIERS) {
    const rows = open.filter((f) => f.tier === tier);
    if (rows.length === 0) continue;
    out.push("", paint("bold", `${TIER_HEADINGS[tier]} (${rows.length})`));
    out.push(paint("dim", header(widths)));
    for (const f of rows) out.push(row(f, widths, paint));
  }
  if (suppressed.length > 0) {
    out.push("", paint("bold", `SUPPRESSED — accepted risks and VEX statements (${suppressed.length})`));
    out.push(paint("dim", header(widths)));
    for (const f of suppressed) {
      const s = f.suppressed!;
      const until = s.expires === undefined ? "" : `, until ${s.expires}`;
      out.push(`${row(f, widths, paint)}  ${paint("dim", `${s.kind}${until}: ${terminalSafe(s.reason)}`)}`);
    }
  }

  out.push(...misconfigurationLines(report.misconfigurations, paint));

  const actions = options.actions ?? actionsFromFindings(open);
  if (actions.length > 0) {
    out.push("", paint("bold", `Remediation (${actions.length})`));
    for (const [i, a] of actions.entries()) {
      out.push(`${String(i + 1).padStart(3)}. ${terminalSafe(a.title)}`);
      if (a.command !== undefined) out.push(`     ${paint("bold", "$")} ${terminalSafe(a.command)}`);
      out.push(paint("dim", `     resolves ${listIds(a.findingIds)}`));
    }
  }
  out.push(...contentSection(report, paint));
  if (report.warnings.length > 0) {
    out.push("", paint("bold", `Warnings (${report.warnings.length})`));
    for (const w of report.warnings) out.push(`  ! ${terminalSafe(w.message)}`);
  }
  return `${out.join("\n")}\n`;
}

interface Widths {
  severity: number;
  package: number;
  installed: number;
  fixed: number;
}

function columnWidths(findings: readonly Finding[]): Widths {
  const max = (values: string[], cap: number, min: number) =>
    Math.min(cap, Math.max(min, ...values.map((v) => v.length)));
  return {
    severity: "CRITICAL".length,
    package: max(findings.map(packageLabel), MAX_PACKAGE, "PACKAGE".length),
    installed: max(
      findings.map((f) => f.package.version),
      MAX_VERSION,
      "INSTALLED".length,
    ),
    fixed: max(
      findings.map((f) => f.fixedVersion ?? "—"),
      MAX_VERSION,
      "FIXED".length,
    ),
  };
}

/** The package's name, and what the policy let in beside production packages: a dev dependency, an OS package's copy. */
function packageLabel(f: Finding): string {
  const { name, dev, installedBy } = f.package;
  return `${name}${dev ? " (dev)" : ""}${installedBy ? ` (from ${installedBy})` : ""}`;
}

function header(w: Widths): string {
  return [
    "SEVERITY".padEnd(w.severity),
    "PACKAGE".padEnd(w.package),
    "INSTALLED".padEnd(w.installed),
    "FIXED".padEnd(w.fixed),
    "ID",
  ].join("  ");
}

function row(f: Finding, w: Widths, paint: ReturnType<typeof painter>): string {
  const cell = (text: string, width: number) => clip(terminalSafe(text), width).padEnd(width);
  return [
    paint(SEVERITY_STYLE[f.severity], f.severity.toUpperCase().padEnd(w.severity)),
    cell(packageLabel(f), w.package),
    cell(f.package.version, w.installed),
    cell(f.fixedVersion ?? "—", w.fixed),
    terminalSafe(f.id),
  ].join("  ");
}

/** Without `decide`'s actions (a stored report), findings sharing one remediation line are one action. */
function actionsFromFindings(
  findings: readonly Finding[],
): Pick<RemediationAction, "title" | "command" | "findingIds">[] {
  const byText = new Map<string, string[]>();
  for (const f of findings) {
    if (f.remediation === undefined) continue;
    const ids = byText.get(f.remediation) ?? [];
    if (!ids.includes(f.id)) ids.push(f.id);
    byText.set(f.remediation, ids);
  }
  return [...byText].map(([title, findingIds]) => ({ title, findingIds }));
}

function listIds(ids: readonly string[], max = 8): string {
  const shown = ids.slice(0, max).map(terminalSafe).join(", ");
  return ids.length > max ? `${shown}, … ${ids.length - max} more` : shown;
}
