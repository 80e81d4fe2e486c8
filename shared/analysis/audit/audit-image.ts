import type { ScanWarning } from "../../model/inventory.js";
import type { MisconfigurationMatch } from "../../model/report.js";
import type { Analyzer, InventoryContext } from "../analyzer.js";
import { auditImageConfig } from "./image-config/image-config-audit.js";

/**
 * The configuration audit of one image: every analyzer's `audit` hook over its squashed fact, and
 * the image config's checks (CIS Docker Benchmark §4). Stored in the Inventory, so a re-verdict
 * never re-reads a layer.
 */
export function auditImage(
  analyzers: readonly Analyzer[],
  facts: Record<string, unknown>,
  /** undefined when the caller has no image config (a re-inventory from cached layers) */
  config: Record<string, unknown> | undefined,
  context: InventoryContext,
): { misconfigurations: MisconfigurationMatch[]; warnings: ScanWarning[] } {
  const misconfigurations: MisconfigurationMatch[] = [];
  const warnings: ScanWarning[] = [];
  for (const analyzer of analyzers) {
    if (!analyzer.audit) continue;
    const out = analyzer.audit(facts[analyzer.name], context);
    misconfigurations.push(...out.misconfigurations);
    warnings.push(...out.warnings);
  }
  // a config the caller did not have is not a clean one: say what was not checked
  if (config === undefined)
    warnings.push({
      code: "image-config-not-audited",
      message:
        "the image config was not available: runs-as-root, secrets in Env/labels/history and HEALTHCHECK were not checked",
    });
  else misconfigurations.push(...auditImageConfig(config, context.os));
  return { misconfigurations, warnings };
}
