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
  config: Record<string, unknown>,
  context: InventoryContext,
): MisconfigurationMatch[] {
  const out: MisconfigurationMatch[] = [];
  for (const analyzer of analyzers)
    if (analyzer.audit) out.push(...analyzer.audit(facts[analyzer.name], context));
  out.push(...auditImageConfig(config, context.os));
  return out;
}
