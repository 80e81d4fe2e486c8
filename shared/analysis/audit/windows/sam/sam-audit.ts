import type { MisconfigurationMatch } from "../../../../model/report.js";
import { type CheckId, misconfiguration } from "../../check-catalog.js";
import { psQuote } from "../powershell-literal.js";
import { ACB_DISABLED, type DomainPolicy } from "./sam-records.js";
import type { SamSettings, SamUser } from "./sam-settings.js";

/** The SAM as every layer's delta left it: the last account policy and each RID's last record. */
export interface SamFact {
  policy?: DomainPolicy & { layer: string };
  users: Record<string, SamUser & { layer: string }>;
}

export function overlaySam(fact: SamFact | undefined, delta: SamSettings, layer: string): SamFact {
  const out: SamFact = fact ?? { users: {} };
  if (delta.policy) out.policy = { ...delta.policy, layer };
  for (const user of delta.users) out.users[String(user.rid)] = { ...user, layer };
  return out;
}

const ACCOUNT_KEY = "SAM\\Domains\\Account";
const ADMINISTRATOR = 500;
const GUEST = 501;

/** The account-policy settings, each with its `net accounts` switch; the policy's baseline judges them. */
const POLICY_CHECKS: [CheckId, keyof DomainPolicy, string, string][] = [
  ["PCS-WIN-0017", "minPasswordLength", "/minpwlen", "characters"],
  ["PCS-WIN-0018", "passwordHistory", "/uniquepw", "passwords remembered"],
  ["PCS-WIN-0019", "maxPasswordAgeDays", "/maxpwage", "days"],
  ["PCS-WIN-0020", "lockoutThreshold", "/lockoutthreshold", "failed logons"],
];

/**
 * The SAM checks. The account-policy values are measured here and judged against the policy's
 * baseline at verdict time (`misconfigurations.accountPolicy`), so a baseline change needs no re-scan.
 */
export function auditSam(fact: SamFact | undefined): MisconfigurationMatch[] {
  if (fact === undefined) return [];
  const out: MisconfigurationMatch[] = [];
  const { policy } = fact;
  if (policy)
    for (const [id, setting, flag, unit] of POLICY_CHECKS) {
      const value = policy[setting];
      const shown = value === null ? "never" : `${value} ${unit}`;
      out.push({
        ...misconfiguration(
          id,
          [{ location: "SAM", key: ACCOUNT_KEY, value: "F", found: `${setting} ${shown}` }],
          { shell: "powershell", script: `net accounts ${flag}:<baseline>` },
          policy.layer,
        ),
        measured: { setting, value },
      });
    }
  for (const user of Object.values(fact.users).sort((a, b) => a.rid - b.rid)) {
    if ((user.acb & ACB_DISABLED) !== 0) continue;
    const key = `${ACCOUNT_KEY}\\Users\\${user.rid.toString(16).toUpperCase().padStart(8, "0")}`;
    const at = (found: string) => [{ location: "SAM", key, value: "F", found }];
    const disable = { shell: "powershell" as const, script: `net user ${psQuote(user.name)} /active:no` };
    if (user.rid === ADMINISTRATOR)
      out.push(
        misconfiguration("PCS-WIN-0021", at(`${user.name} (RID 500) is enabled`), disable, user.layer),
      );
    if (user.rid === GUEST)
      out.push(
        misconfiguration("PCS-WIN-0022", at(`${user.name} (RID 501) is enabled`), disable, user.layer),
      );
    if (user.blankPassword)
      out.push(
        misconfiguration(
          "PCS-WIN-0023",
          [
            {
              location: "SAM",
              key,
              value: "V",
              found: `${user.name} (RID ${user.rid}) is enabled with no password hash`,
            },
          ],
          disable,
          user.layer,
        ),
      );
  }
  return out;
}
