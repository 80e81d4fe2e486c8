import type { ContentFact, ContentFinding } from "../model/content.js";
import type { ScanWarning } from "../model/inventory.js";
import {
  type Finding,
  type Misconfiguration,
  type MisconfigurationMatch,
  SEVERITY_ORDER,
  type Severity,
  type Verdict,
} from "../model/report.js";
import { compareFindings } from "../report/finding-order.js";
import { type AcceptedRisk, DEFAULT_RULES, type Policy } from "./policy.js";
import { AcceptedRisks } from "./accepted-risks.js";
import type { RemediationAction } from "../model/remediation-action.js";
import { planRemediation } from "./remediation/plan.js";
import type { RemediationContext } from "./remediation/remediator.js";
import { describeMisconfigurations, tierMisconfigurations } from "./misconfiguration-tier.js";
import { describeContent, tierContent, unscannedByClamd } from "./content-tier.js";
import { hasFix, type PolicyImage, type PolicyMatch, TierRules } from "./tier.js";
import { type OpenVexDocument, VexIndex, vexSuppressionReason } from "./vex.js";

export interface DecisionContext extends RemediationContext, PolicyImage {
  /** the image digest, for VEX statements that name the image by digest */
  digest?: string;
  /** the clock: accepted risks expire against it */
  now?: Date;
  /** the policy's `vex` documents, loaded (loadVexDocuments) */
  vex?: readonly OpenVexDocument[];
  /** command-line filters; each one given overrides the policy's own value */
  filters?: { ignoreUnfixed?: boolean; severity?: readonly Severity[] };
  /** the configuration audit's results (Inventory.misconfigurations); absent when the image was not audited */
  misconfigurations?: readonly MisconfigurationMatch[];
  /** what the scan could not read or match (isUnscannable warnings): the policy's `unscannable` tier */
  unscannable?: readonly ScanWarning[];
  /** the content engine's fact (Inventory.facts.content); absent when it did not run */
  content?: ContentFact;
}

export interface Decision {
  /** the findings the report shows, in report order, with tier, remediation and suppression */
  findings: Finding[];
  verdict: Verdict;
  /** grouped remediation, most urgent first; each names the vulnerability ids it resolves */
  actions: RemediationAction[];
  warnings: ScanWarning[];
  /** how many findings the filters left out of the report, before the verdict */
  filtered: { unfixed: number; severity: number };
  /** tiered configuration-audit findings, when the context carried any audit */
  misconfigurations?: Misconfiguration[];
  /** tiered content findings, when the context carried the content engine's fact */
  content?: ContentFinding[];
}

/**
 * The verdict of a policy over one image's matches: filter, tier (first rule wins), suppress (VEX,
 * then accepted risks), plan remediation, decide — block if any unsuppressed finding is at block
 * tier, fix if any is at fix tier, else pass.
 */
export function decide(matches: readonly PolicyMatch[], policy: Policy, context: DecisionContext): Decision {
  const now = context.now ?? new Date();
  const ignoreUnfixed = context.filters?.ignoreUnfixed ?? policy.ignoreUnfixed;
  const severities = context.filters?.severity ?? policy.severity;

  const filtered = { unfixed: 0, severity: 0 };
  const kept = matches.filter((m) => {
    if (ignoreUnfixed && !hasFix(m)) return ++filtered.unfixed < 0;
    if (severities !== undefined && !severities.includes(m.severity)) return ++filtered.severity < 0;
    return true;
  });

  const rules = new TierRules(policy);
  const risks = new AcceptedRisks(policy.acceptedRisks);
  const vex = new VexIndex(context.vex ?? []);
  const expired = new Map<AcceptedRisk, unknown[]>();
  const tiered = kept.map((m) => {
    const { tier, ruleIndex } = rules.tierOf(m, context);
    return { match: m, tier, ruleIndex, suppressed: suppression(m) };
  });

  // misconfigurations go through the same accepted risks, so their expiries are reported too
  const audit =
    context.misconfigurations === undefined
      ? undefined
      : tierMisconfigurations(context.misconfigurations, policy, risks, context, now, severities, expired);
  // content findings too: a rule id works as an accepted risk's id, narrowed by its `path`
  const content =
    context.content === undefined
      ? undefined
      : tierContent(context.content.findings, policy.content, risks, context, now, expired);

  function suppression(m: PolicyMatch): Finding["suppressed"] {
    const statement = vex.statementFor(m, context);
    const vexReason = statement === undefined ? undefined : vexSuppressionReason(statement);
    if (vexReason !== undefined) return { kind: "vex", reason: vexReason };
    const check = risks.check(m, context, now);
    for (const risk of check.expired) expired.set(risk, [...(expired.get(risk) ?? []), m]);
    if (check.applied === undefined) return undefined;
    return { kind: "accepted-risk", reason: check.applied.reason, expires: check.applied.expires };
  }

  // suppressed findings need no action: plan only what still counts
  const open = tiered.filter((t) => t.suppressed === undefined);
  // planning sees copies that carry their tier; its answers are mapped back onto the matches
  const original = new Map<PolicyMatch, PolicyMatch>(
    open.map((t) => [{ ...t.match, tier: t.tier }, t.match]),
  );
  const plan = planRemediation([...original.keys()], context);
  const remediationOf = new Map<PolicyMatch, string>();
  for (const [copy, text] of plan.byFinding) remediationOf.set(original.get(copy) ?? copy, text);

  const findings = tiered
    .map(({ match, tier, suppressed }): Finding => {
      const remediation = remediationOf.get(match);
      return {
        ...match,
        tier,
        ...(remediation === undefined ? {} : { remediation }),
        ...(suppressed === undefined ? {} : { suppressed }),
      };
    })
    .sort(compareFindings);

  const warnings: ScanWarning[] = [...expired].map(([risk, hit]) => ({
    code: "accepted-risk-expired",
    message: `accepted risk for ${riskLabel(risk)} expired ${risk.expires} (${risk.reason}); ${hit.length} finding${hit.length === 1 ? "" : "s"} count again`,
  }));

  const customRules = policy.rules !== undefined && policy.rules !== DEFAULT_RULES;
  const ruleLabel = (i: number | undefined) =>
    i === undefined ? "defaultTier" : (policy.rules?.[i]?.name ?? `rules[${i}]`);
  const counted = tiered.filter((t) => t.suppressed === undefined);
  if (audit !== undefined) filtered.severity += audit.filtered;
  const openAudit = audit?.misconfigurations.filter((m) => m.suppressed === undefined) ?? [];
  const auditIn = (tier: string) => openAudit.filter((m) => m.tier === tier);
  const openContent = content?.findings.filter((f) => f.suppressed === undefined) ?? [];
  const contentIn = (tier: string) => openContent.filter((f) => f.tier === tier);
  const reasons: string[] = [];
  for (const tier of ["block", "fix"] as const) {
    const inTier = counted.filter((t) => t.tier === tier);
    if (inTier.length > 0) {
      const by = customRules
        ? ` [${[...new Set(inTier.map((t) => ruleLabel(t.ruleIndex)))].join(", ")}]`
        : "";
      reasons.push(`${tier}: ${describeFindings(inTier.map((t) => t.match))}${by}`);
    }
    if (auditIn(tier).length > 0) reasons.push(`${tier}: ${describeMisconfigurations(auditIn(tier))}`);
    if (contentIn(tier).length > 0) reasons.push(`${tier}: ${describeContent(contentIn(tier))}`);
  }
  const gaps = context.unscannable ?? [];
  const gapTier = gaps.length > 0 ? policy.unscannable : undefined;
  if (gapTier === "block" || gapTier === "fix") reasons.unshift(unscannableReason(gapTier, gaps));
  const blocks =
    counted.some((t) => t.tier === "block") ||
    auditIn("block").length > 0 ||
    contentIn("block").length > 0 ||
    gapTier === "block";
  const decision = reasons.length === 0 ? "pass" : blocks ? "block" : "fix";
  if (decision === "pass")
    reasons.push(
      audit === undefined
        ? "no vulnerabilities at block or fix tier"
        : "no vulnerabilities or misconfigurations at block or fix tier",
    );
  if (gapTier === "report") reasons.push(unscannableReason(gapTier, gaps));
  const reported = counted.filter((t) => t.tier === "report");
  if (reported.length > 0) reasons.push(`report: ${describeFindings(reported.map((t) => t.match))}`);
  if (auditIn("report").length > 0) reasons.push(`report: ${describeMisconfigurations(auditIn("report"))}`);
  if (contentIn("report").length > 0) reasons.push(`report: ${describeContent(contentIn("report"))}`);
  const clamdGaps = context.content?.warnings?.filter((w) => w.code === "clamd-unavailable").length ?? 0;
  if (clamdGaps > 0) reasons.push(unscannedByClamd(clamdGaps));
  for (const [risk] of expired) reasons.push(`accepted risk for ${riskLabel(risk)} expired ${risk.expires}`);
  const suppressedCount = (kind: "vex" | "accepted-risk") =>
    tiered.filter((t) => t.suppressed?.kind === kind).length;
  const byRisk =
    suppressedCount("accepted-risk") +
    (audit?.misconfigurations.filter((m) => m.suppressed !== undefined).length ?? 0) +
    (content?.findings.filter((f) => f.suppressed !== undefined).length ?? 0);
  const byVex = suppressedCount("vex");
  if (byRisk + byVex > 0) {
    const parts = [
      byRisk > 0 ? `${byRisk} by accepted risks` : "",
      byVex > 0 ? `${byVex} by VEX statements` : "",
    ];
    reasons.push(`suppressed: ${parts.filter(Boolean).join(", ")}`);
  }
  if (filtered.unfixed > 0) reasons.push(`left out: ${filtered.unfixed} without a fix (ignoreUnfixed)`);
  if (audit !== undefined && audit.off > 0)
    reasons.push(`left out: ${audit.off} misconfiguration${audit.off === 1 ? "" : "s"} whose check is off`);
  if (content !== undefined && content.off > 0)
    reasons.push(`left out: ${content.off} content finding${content.off === 1 ? "" : "s"} whose rule is off`);
  if (filtered.severity > 0) {
    reasons.push(`left out: ${filtered.severity} below the severity filter (${severities?.join(", ")})`);
  }

  return {
    findings,
    verdict: { decision, reasons },
    actions: plan.actions,
    warnings,
    filtered,
    ...(audit === undefined ? {} : { misconfigurations: audit.misconfigurations }),
    ...(content === undefined ? {} : { content: content.findings }),
  };
}

/** "block: image not fully scanned (policy unscannable): /var/lib/rpm/rpmdb.sqlite …" */
export const unscannableReason = (tier: string, gaps: readonly ScanWarning[]): string =>
  `${tier}: ${UNSCANNED_REASON} (policy unscannable): ${gaps.map((g) => g.message).join("; ")}`;

/** The words every unscannable reason carries, so the gate can pass it on with an allow. */
export const UNSCANNED_REASON = "image not fully scanned";

const riskLabel = (risk: AcceptedRisk): string =>
  risk.package === undefined ? risk.id : `${risk.id} in ${risk.package}`;

/** "3 critical/high vulnerabilities with fixes in 4 packages (CVE-…, CVE-…, CVE-…)" */
export function describeFindings(findings: readonly PolicyMatch[], maxIds = 5): string {
  const sorted = [...findings].sort(
    (a, b) =>
      SEVERITY_ORDER.indexOf(a.severity) - SEVERITY_ORDER.indexOf(b.severity) || a.id.localeCompare(b.id),
  );
  const ids = [...new Set(sorted.map((f) => f.id))];
  const severities = SEVERITY_ORDER.filter((s) => sorted.some((f) => f.severity === s)).join("/");
  const fixed = new Set(sorted.filter(hasFix).map((f) => f.id)).size;
  const noun = ids.length === 1 ? "vulnerability" : "vulnerabilities";
  const fixText =
    fixed === ids.length
      ? ids.length === 1
        ? " with a fix"
        : " with fixes"
      : fixed === 0
        ? " without a fix"
        : `, ${fixed} with ${fixed === 1 ? "a fix" : "fixes"}`;
  const packages = new Set(sorted.map((f) => `${f.package.name}\0${f.package.version}`)).size;
  const where = packages > ids.length ? ` in ${packages} packages` : "";
  const shown =
    ids.slice(0, maxIds).join(", ") + (ids.length > maxIds ? `, … ${ids.length - maxIds} more` : "");
  return `${ids.length} ${severities} ${noun}${fixText}${where} (${shown})`;
}
