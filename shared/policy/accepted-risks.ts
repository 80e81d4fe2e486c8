import picomatch from "picomatch";
import type { AcceptedRisk } from "./policy.js";
import { namesVulnerability, type PolicyImage, type PolicyMatch, repositoryMatcher } from "./tier.js";

export interface AcceptedRiskCheck {
  /** the unexpired risk that suppresses this finding */
  applied: AcceptedRisk | undefined;
  /** risks that would have covered this finding but have expired (none when another one applies) */
  expired: AcceptedRisk[];
}

/** Accepted risks, with their repository globs compiled once. */
export class AcceptedRisks {
  private readonly entries: {
    risk: AcceptedRisk;
    expiresAt: number;
    inRepository: (i: PolicyImage) => boolean;
    atPath: ((path: string) => boolean) | undefined;
  }[];

  constructor(risks: readonly AcceptedRisk[]) {
    this.entries = risks.map((risk) => ({
      risk,
      expiresAt: expiryInstant(risk.expires),
      inRepository: repositoryMatcher(risk.repository),
      atPath: risk.path === undefined ? undefined : picomatch([...risk.path], { dot: true }),
    }));
  }

  /**
   * `match` may be a misconfiguration or a content finding (id = its rule): they have no package, so
   * a risk naming one never covers them; a risk naming a `path` covers only content findings there.
   */
  check(
    match: Pick<PolicyMatch, "id" | "aliases"> & { package?: { name: string }; path?: string },
    image: PolicyImage,
    now: Date,
  ): AcceptedRiskCheck {
    const result: AcceptedRiskCheck = { applied: undefined, expired: [] };
    for (const { risk, expiresAt, inRepository, atPath } of this.entries) {
      if (!namesVulnerability(risk.id, match)) continue;
      if (risk.package !== undefined && risk.package !== match.package?.name) continue;
      if (atPath !== undefined && (match.path === undefined || !atPath(match.path))) continue;
      if (!inRepository(image)) continue;
      if (now.getTime() < expiresAt) result.applied ??= risk;
      else result.expired.push(risk);
    }
    // a renewed risk covers the finding: the stale entry it replaced is no reason to fail the verdict
    if (result.applied !== undefined) result.expired = [];
    return result;
  }
}

/** A bare date is accepted through the end of that day (UTC): `expires: 2025-06-30` still holds on the 30th. */
export function expiryInstant(expires: string): number {
  if (/^\d{4}-\d{2}-\d{2}$/.test(expires)) return Date.parse(`${expires}T00:00:00Z`) + 24 * 60 * 60 * 1000;
  return Date.parse(expires);
}
