import { ScanIdSchema } from "../model/messages.js";
import type { TableStore } from "../ports/table-store.js";
import { failScan } from "../stages/scan-state.js";

/**
 * A message given up on (poisoned, dead-lettered, or failing with an error retrying cannot fix)
 * marks its scan failed with the reason: the scan ends visibly, never silently.
 */
export async function failScanOfMessage(
  tables: TableStore,
  queue: string,
  body: unknown,
  reason: string,
  deps: { now(): Date; log(message: string): void },
): Promise<void> {
  const scanId = ScanIdSchema.safeParse((body as { scanId?: unknown } | undefined)?.scanId);
  if (!scanId.success) {
    deps.log(`${queue}: gave up on a message without a scan id: ${reason}`);
    return;
  }
  deps.log(`${queue}: scan ${scanId.data} failed: ${reason}`);
  await failScan(tables, scanId.data, reason, deps.now);
}
