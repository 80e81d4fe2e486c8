import type { RegistryScalar, RegistrySnapshot } from "../../windows/registry-snapshot.js";
import type { SamFact } from "./sam/sam-audit.js";
import type { SamSettings } from "./sam/sam-settings.js";

export type AuditedHive = "SYSTEM" | "SOFTWARE";

/** What one layer's hive delta says about the audited settings. */
export type WindowsAuditData =
  | { hive: AuditedHive; settings: RegistrySnapshot }
  | { hive: "SAM"; sam: SamSettings }
  | { hive: "SECURITY"; secrets: string[] };

/** A value as the overlay of every layer left it, with the layer that last wrote it. */
export interface AuditedValue {
  name: string;
  value: RegistryScalar;
  layer: string;
}

/** The image's audited settings per hive: upper-case key path → upper-case value name → value. */
export type WindowsAuditFact = Partial<
  Record<AuditedHive, Record<string, { path: string; values: Record<string, AuditedValue> }>>
> & {
  sam?: SamFact;
  /** LSA secrets (SECURITY\Policy\Secrets subkey names, never their values) with the layer that wrote each */
  secrets?: { name: string; layer: string }[];
};
