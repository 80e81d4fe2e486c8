import { z } from "zod";

/**
 * A feed's own fix advice for one affected package, kept through the DB into the match so the
 * remediation can name it: MSRC's KB, the update's release date and the base image to rebuild on.
 */
export const RemediationHintSchema = z.object({
  text: z.string().optional(),
  kb: z.string().optional(),
  /** YYYY-MM-DD the fix was released (a base image pulled after this date carries it) */
  released: z.string().optional(),
  baseImage: z.string().optional(),
});
export type RemediationHint = z.infer<typeof RemediationHintSchema>;

const text = (v: unknown) => (typeof v === "string" && v.trim() !== "" ? v.trim() : undefined);

/** The hint an OSV `affected` entry carries (cvrfToOsv writes these fields), or undefined. */
export function remediationHintOf(affected: {
  ecosystem_specific?: Record<string, unknown> | undefined;
  database_specific?: Record<string, unknown> | undefined;
}): RemediationHint | undefined {
  const hint: RemediationHint = {};
  const t = text(affected.ecosystem_specific?.remediation);
  const kb = text(affected.database_specific?.kb);
  const released = text(affected.database_specific?.released);
  const baseImage = text(affected.ecosystem_specific?.base_image);
  if (t) hint.text = t;
  if (kb) hint.kb = kb;
  if (released) hint.released = released;
  if (baseImage) hint.baseImage = baseImage;
  return Object.keys(hint).length > 0 ? hint : undefined;
}
