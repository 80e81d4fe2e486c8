import { z } from "zod";
import type { TableStore } from "../ports/table-store.js";
import type { AcceptedRisk } from "../policy/policy.js";
import { TABLES } from "../stages/tables.js";

/**
 * The `exceptions` table: risks accepted from GitHub (`/portcullis accept`, the `risk-accepted`
 * label), per image repository. They join the policy's own accepted risks at the next verdict,
 * show in the issue, and stop counting when they expire.
 */
export const StoredRiskSchema = z.object({
  id: z.string().min(1),
  reason: z.string().min(1),
  /** YYYY-MM-DD, valid through that day (UTC) */
  expires: z.string().min(1),
  /** who accepted it, and on which issue */
  by: z.string(),
  issue: z.string(),
  acceptedAt: z.string(),
});
export type StoredRisk = z.infer<typeof StoredRiskSchema>;

const partitionOf = (registry: string, repository: string) => `${registry}/${repository}`;

export async function acceptRisk(
  tables: TableStore,
  image: { registry: string; repository: string },
  risk: StoredRisk,
): Promise<void> {
  await tables.upsert(
    TABLES.exceptions,
    partitionOf(image.registry, image.repository),
    risk.id,
    StoredRiskSchema.parse(risk),
  );
}

export async function removeRisk(
  tables: TableStore,
  image: { registry: string; repository: string },
  id: string,
): Promise<boolean> {
  const key = partitionOf(image.registry, image.repository);
  if (!(await tables.get(TABLES.exceptions, key, id))) return false;
  await tables.delete(TABLES.exceptions, key, id);
  return true;
}

/** The accepted risks of an image repository, as the policy takes them. */
export async function storedAcceptedRisks(
  tables: TableStore,
  image: { registry: string; repository: string },
): Promise<AcceptedRisk[]> {
  const risks: AcceptedRisk[] = [];
  for await (const row of tables.query(TABLES.exceptions, {
    partitionKey: partitionOf(image.registry, image.repository),
  })) {
    const parsed = StoredRiskSchema.safeParse(row.properties);
    if (parsed.success)
      risks.push({
        id: parsed.data.id,
        reason: `${parsed.data.reason} (accepted by ${parsed.data.by} on ${parsed.data.issue})`,
        expires: parsed.data.expires,
      });
  }
  return risks;
}
