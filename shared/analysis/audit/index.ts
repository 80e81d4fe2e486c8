import type { Analyzer } from "../analyzer.js";
import { linuxAuditAnalyzer } from "./linux/linux-audit-analyzer.js";
import { windowsAuditAnalyzer } from "./windows/windows-audit-analyzer.js";

export { auditImage } from "./audit-image.js";
export { CHECKS, type CheckId } from "./check-catalog.js";

/** The configuration-audit analyzers, for the registry list. */
export const auditAnalyzers: readonly Analyzer[] = [linuxAuditAnalyzer, windowsAuditAnalyzer];
