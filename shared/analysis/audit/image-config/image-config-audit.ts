import type { MisconfigurationMatch } from "../../../model/report.js";

/** Placeholder until the image-config checks land: none yet. */
export function auditImageConfig(
  _config: Record<string, unknown>,
  _os: string | undefined,
): MisconfigurationMatch[] {
  return [];
}
