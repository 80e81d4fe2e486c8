import { type Finding, type Misconfiguration, SEVERITY_ORDER } from "../model/report.js";
import { tierRank } from "../model/tier.js";

/** Report order: unsuppressed first, then tier, severity, score, id, package — stable whatever the input order. */
export function compareFindings(a: Finding, b: Finding): number {
  return (
    Number(a.suppressed !== undefined) - Number(b.suppressed !== undefined) ||
    tierRank(a.tier) - tierRank(b.tier) ||
    SEVERITY_ORDER.indexOf(a.severity) - SEVERITY_ORDER.indexOf(b.severity) ||
    (b.cvss?.score ?? -1) - (a.cvss?.score ?? -1) ||
    compareText(a.id, b.id) ||
    compareText(a.package.name, b.package.name) ||
    compareText(a.package.version, b.package.version) ||
    compareText(a.package.purl, b.package.purl)
  );
}

// code-unit order, not locale order: the same on every machine
const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Report order: unsuppressed first, then tier, severity, check id, where. */
export function compareMisconfigurations(a: Misconfiguration, b: Misconfiguration): number {
  const where = (m: Misconfiguration) => m.evidence.map((e) => `${e.location}\0${e.key ?? ""}`).join("\0");
  return (
    Number(a.suppressed !== undefined) - Number(b.suppressed !== undefined) ||
    tierRank(a.tier) - tierRank(b.tier) ||
    SEVERITY_ORDER.indexOf(a.severity) - SEVERITY_ORDER.indexOf(b.severity) ||
    compareText(a.id, b.id) ||
    compareText(where(a), where(b))
  );
}
