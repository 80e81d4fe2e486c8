import { compareMisconfigurations } from "./finding-order.js";
import { TIERS } from "../model/tier.js";
import type { Misconfiguration, MisconfigurationEvidence } from "../model/report.js";
import type { Tier } from "../model/tier.js";
import { type painter, terminalSafe } from "./terminal-text.js";

const HEADINGS: Record<Tier, string> = {
  block: "MISCONFIGURATIONS: BLOCK — fix before this image ships",
  fix: "MISCONFIGURATIONS: FIX — apply the remediation",
  report: "MISCONFIGURATIONS: REPORT — no action required yet",
};

/** The configuration audit's part of the table: per tier, each check with where it was seen and the `RUN` line that fixes it. */
export function misconfigurationLines(
  list: readonly Misconfiguration[] | undefined,
  paint: ReturnType<typeof painter>,
): string[] {
  if (list === undefined) return [];
  if (list.length === 0) return ["", "No misconfigurations found."];
  const sorted = [...list].sort(compareMisconfigurations);
  const out: string[] = [];
  const section = (heading: string, rows: readonly Misconfiguration[]) => {
    if (rows.length === 0) return;
    out.push("", paint("bold", `${heading} (${rows.length})`));
    for (const m of rows) {
      out.push(`  ${m.severity.toUpperCase().padEnd(8)}  ${m.id}  ${terminalSafe(m.title)}`);
      for (const e of m.evidence) out.push(paint("dim", `            ${terminalSafe(evidenceText(e))}`));
      if (m.suppressed !== undefined) {
        const until = m.suppressed.expires === undefined ? "" : `, until ${m.suppressed.expires}`;
        out.push(paint("dim", `            accepted risk${until}: ${terminalSafe(m.suppressed.reason)}`));
      } else out.push(`            ${terminalSafe(dockerfileLine(m.remediation))}`);
    }
  };
  for (const tier of TIERS)
    section(
      HEADINGS[tier],
      sorted.filter((m) => m.suppressed === undefined && m.tier === tier),
    );
  section(
    "MISCONFIGURATIONS: SUPPRESSED — accepted risks",
    sorted.filter((m) => m.suppressed !== undefined),
  );
  return out;
}

/** "/etc/ssh/sshd_config:14: PermitRootLogin yes", "SYSTEM ControlSet001\\…\\Parameters\\SMB1: 1" */
export function evidenceText(e: MisconfigurationEvidence): string {
  const line = e.line === undefined ? "" : `:${e.line}`;
  const key = e.key === undefined ? "" : ` ${e.key}${e.value === undefined ? "" : `\\${e.value}`}`;
  return `${e.location}${line}${key}: ${e.found}`;
}

/** The remediation as it goes into a Dockerfile: `RUN <script>`, or the instruction itself. */
export function dockerfileLine(remediation: Misconfiguration["remediation"]): string {
  return remediation.shell === "dockerfile" ? remediation.script : `RUN ${remediation.script}`;
}
