import type { RemediationAction, RemediationTarget } from "../model/remediation-action.js";
import { SEVERITY_ORDER, type Tier } from "../model/report.js";
import type { RemediationHint } from "../vulndb/msrc/remediation-hint.js";
import { versioningFor } from "../vulndb/versioning/index.js";
import { ecosystemMatches, hasFix, type PolicyMatch } from "./tier.js";

export type CompareVersions = (ecosystem: string, a: string, b: string) => number;

export interface RemediationContext {
  /** the image's layer digests, base first (Inventory.layers) */
  layers?: readonly string[];
  /**
   * which layers came from the base image: their digests, or how many leading layers it has (from
   * the image history or the base image's own manifest). Default: the first layer.
   */
  baseLayers?: ReadonlySet<string> | number;
  /** the base image's name when known (`debian:12`, the org.opencontainers.image.base.name label) */
  baseImage?: string;
  /** how to pick the highest fixed version; default: the ecosystem's scheme (ecosystemCompare) */
  compareVersions?: CompareVersions;
}

/** A finding as planning sees it: a match, and its tier once the policy has given it one. */
export type PlannedFinding = PolicyMatch & { tier?: Tier };

export interface RemediationPlan {
  /** grouped actions, most urgent first */
  actions: RemediationAction[];
  /** the one-line remediation of each finding that has one (the Finding's `remediation`) */
  byFinding: Map<PolicyMatch, string>;
}

/**
 * A way to fix findings of some ecosystems. It gets every fixable finding of its ecosystems (those
 * from base layers too when `handlesBaseLayers`) and groups them as it sees fit.
 */
export interface Remediator {
  readonly ecosystems: readonly string[];
  /** true when this remediator's own action is the right one even for base-layer packages */
  readonly handlesBaseLayers?: boolean;
  plan(findings: readonly PlannedFinding[], ctx: RemediationContext): RemediationPlan;
}

interface PackageManager {
  manager: string;
  ecosystems: readonly string[];
  /** "Debian packages" */
  noun: string;
  /** whether one command upgrades many packages, or the tool takes one at a time */
  batch: boolean;
  /** whether the command names the target version (else the remediation shows it as a comment) */
  pinsVersion: boolean;
  command?: (targets: readonly RemediationTarget[]) => string;
}

const names = (ts: readonly RemediationTarget[]) => ts.map((t) => shellWord(t.name)).join(" ");

const PACKAGE_MANAGERS: readonly PackageManager[] = [
  {
    manager: "apt",
    ecosystems: ["Debian", "Ubuntu"],
    noun: "Debian/Ubuntu packages",
    batch: true,
    pinsVersion: false,
    command: (ts) => `apt-get update && apt-get install -y --only-upgrade ${names(ts)}`,
  },
  {
    manager: "apk",
    ecosystems: ["Alpine", "Wolfi", "Chainguard"],
    noun: "Alpine packages",
    batch: true,
    pinsVersion: false,
    command: (ts) => `apk upgrade --no-cache ${names(ts)}`,
  },
  {
    manager: "dnf",
    ecosystems: ["Red Hat", "AlmaLinux", "Rocky Linux", "Fedora", "CentOS", "Oracle Linux", "Amazon Linux"],
    noun: "RPM packages",
    batch: true,
    pinsVersion: false,
    command: (ts) => `dnf upgrade -y ${names(ts)}`,
  },
  {
    manager: "tdnf",
    ecosystems: ["Azure Linux", "Mariner", "Photon OS"],
    noun: "RPM packages",
    batch: true,
    pinsVersion: false,
    command: (ts) => `tdnf upgrade -y ${names(ts)}`,
  },
  {
    manager: "zypper",
    ecosystems: ["SUSE", "openSUSE"],
    noun: "SUSE packages",
    batch: true,
    pinsVersion: false,
    command: (ts) => `zypper --non-interactive update ${names(ts)}`,
  },
  {
    manager: "npm",
    ecosystems: ["npm"],
    noun: "npm packages",
    batch: true,
    pinsVersion: true,
    command: (ts) => `npm install ${ts.map((t) => shellWord(`${t.name}@${t.fixedVersion}`)).join(" ")}`,
  },
  {
    manager: "pip",
    ecosystems: ["PyPI"],
    noun: "Python packages",
    batch: true,
    pinsVersion: true,
    command: (ts) => `pip install ${ts.map((t) => quote(`${t.name}>=${t.fixedVersion}`)).join(" ")}`,
  },
  {
    manager: "dotnet",
    ecosystems: ["NuGet"],
    noun: "NuGet packages",
    batch: false,
    pinsVersion: true,
    command: ([t]) => `dotnet add package ${shellWord(t!.name)} --version ${shellWord(t!.fixedVersion)}`,
  },
  {
    manager: "go",
    ecosystems: ["Go"],
    noun: "Go modules",
    batch: true,
    pinsVersion: true,
    command: (ts) =>
      `go get ${ts.map((t) => shellWord(`${t.name}@${t.fixedVersion.startsWith("v") ? "" : "v"}${t.fixedVersion}`)).join(" ")} && go mod tidy`,
  },
  {
    manager: "cargo",
    ecosystems: ["crates.io"],
    noun: "Rust crates",
    batch: false,
    pinsVersion: true,
    command: ([t]) => `cargo update -p ${shellWord(t!.name)} --precise ${shellWord(t!.fixedVersion)}`,
  },
  {
    manager: "bundler",
    ecosystems: ["RubyGems"],
    noun: "Ruby gems",
    batch: true,
    pinsVersion: false,
    command: (ts) => `bundle update --conservative ${names(ts)}`,
  },
  {
    manager: "composer",
    ecosystems: ["Packagist"],
    noun: "Composer packages",
    batch: true,
    pinsVersion: false,
    command: (ts) => `composer update --with-dependencies ${names(ts)}`,
  },
  // Maven and Gradle versions live in build files a command cannot edit: say what to change.
  { manager: "maven", ecosystems: ["Maven"], noun: "Maven artifacts", batch: true, pinsVersion: true },
];

/** Package-manager upgrades, one action per manager (or per package where the tool takes one). */
function packageManagerRemediator(pm: PackageManager): Remediator {
  return {
    ecosystems: pm.ecosystems,
    plan(findings, ctx) {
      const byFinding = new Map<PolicyMatch, string>();
      const targets = targetsOf(findings, ctx.compareVersions);
      const groups = pm.batch ? [[...targets.values()]] : [...targets.values()].map((t) => [t]);
      const actions: RemediationAction[] = [];
      for (const group of groups) {
        if (group.length === 0) continue;
        const packages = group.map((t) => t.target);
        const members = group.flatMap((t) => t.findings);
        const command = pm.command?.(packages);
        const list = packages.map((p) => `${p.name} ≥ ${p.fixedVersion}`).join(", ");
        actions.push({
          kind: "package-upgrade",
          manager: pm.manager,
          ecosystem: members[0]!.package.ecosystem,
          packages,
          key: pm.batch ? pm.manager : `${pm.manager}:${packages[0]!.name}`,
          title:
            packages.length === 1
              ? `Upgrade ${list}`
              : `Upgrade ${packages.length} ${pm.noun}: ${truncateList(list)}`,
          ...(command === undefined ? {} : { command }),
          findingIds: idsOf(members),
          tier: mostUrgentTier(members),
        });
        for (const t of group) {
          const own = pm.command?.([t.target]);
          const text =
            own === undefined
              ? `upgrade ${t.target.name} to ≥ ${t.target.fixedVersion}`
              : pm.pinsVersion
                ? own
                : `${own}  # ≥ ${t.target.fixedVersion}`;
          for (const f of t.findings) byFinding.set(f, text);
        }
      }
      return { actions, byFinding };
    },
  };
}

/** The feed's fix advice a match may carry (MSRC: KB, release date, base image); see MatchSchema. */
type HintedFinding = PlannedFinding & { remediationHint?: RemediationHint };

/**
 * Windows findings: the OS comes with the base image, so the action is a base image with an OS
 * build at or above the highest fixed build, naming the KBs (from the MSRC hint, or KB aliases)
 * and, when the advisory names it, the base image and the date after which a pull carries the fix.
 */
const windowsRemediator: Remediator = {
  ecosystems: ["Windows"],
  handlesBaseLayers: true,
  plan(findings, ctx) {
    const byFinding = new Map<PolicyMatch, string>();
    const targets = targetsOf(findings, ctx.compareVersions);
    const actions: RemediationAction[] = [];
    for (const { target, findings: members } of targets.values()) {
      const hinted = members as readonly HintedFinding[];
      // the advice that goes with the highest fixed build: installing it fixes every member
      const hint = hinted.find(
        (f) => f.remediationHint && f.fixedVersion === target.fixedVersion,
      )?.remediationHint;
      const kbs = [
        ...new Set([
          ...members.flatMap((f) => f.aliases.filter((a) => /^KB\d+$/i.test(a))),
          ...(hint?.kb ? [hint.kb] : []),
        ]),
      ].sort();
      const baseImage = hint?.baseImage ?? ctx.baseImage;
      const title =
        hint?.baseImage === undefined
          ? `Rebuild on a base image with OS build ≥ ${target.fixedVersion}${kbs.length === 0 ? "" : ` (${kbs.join(", ")})`}${ctx.baseImage === undefined ? "" : `, e.g. a newer ${ctx.baseImage}`}`
          : `Rebuild on a base image with OS build ≥ ${target.fixedVersion} (${[
              ...kbs,
              `e.g. ${hint.baseImage}${hint.released ? ` pulled after ${hint.released}` : ""}`,
            ].join(", ")})`;
      actions.push({
        kind: "os-build-update",
        product: target.name,
        minBuild: target.fixedVersion,
        kbs,
        ...(baseImage === undefined ? {} : { baseImage }),
        key: `os-build:${target.name}`,
        title,
        findingIds: idsOf(members),
        tier: mostUrgentTier(members),
      });
      for (const f of members) byFinding.set(f, title);
    }
    return { actions, byFinding };
  },
};

// the runtime packs the Windows .NET analyzer reports: installed runtimes, not project references
const DOTNET_RUNTIME_PACK =
  /^(Microsoft\.(?:NETCore|AspNetCore|WindowsDesktop)\.App)\.Runtime\.win-[a-z0-9]+$/i;
const RUNTIME_NOUN: Record<string, string> = {
  "microsoft.netcore.app": ".NET runtime",
  "microsoft.aspnetcore.app": "ASP.NET Core runtime",
  "microsoft.windowsdesktop.app": ".NET Desktop runtime",
};

/**
 * NuGet findings on installed .NET runtimes (".NET runtime 8.0.3 → ≥ 8.0.4": install a newer
 * runtime or rebuild on a newer dotnet image); every other NuGet finding is a `dotnet add package`.
 */
const dotnetRuntimeRemediator = (packages: Remediator): Remediator => ({
  ecosystems: ["NuGet"],
  plan(findings, ctx) {
    const runtimes = findings.filter((f) => DOTNET_RUNTIME_PACK.test(f.package.name));
    const plan = packages.plan(
      findings.filter((f) => !DOTNET_RUNTIME_PACK.test(f.package.name)),
      ctx,
    );
    for (const { target, findings: members } of targetsOf(runtimes, ctx.compareVersions).values()) {
      const framework = DOTNET_RUNTIME_PACK.exec(target.name)![1]!;
      const installed = [...new Set(members.map((f) => f.package.version))].join(", ");
      const title = `${RUNTIME_NOUN[framework.toLowerCase()] ?? framework} ${installed} → ≥ ${target.fixedVersion}`;
      plan.actions.push({
        kind: "package-upgrade",
        manager: "dotnet-runtime",
        ecosystem: members[0]!.package.ecosystem,
        packages: [target],
        key: `dotnet-runtime:${target.name}`,
        title,
        findingIds: idsOf(members),
        tier: mostUrgentTier(members),
      });
      for (const f of members) plan.byFinding.set(f, title);
    }
    return plan;
  },
});

/** The registered remediators, first match by ecosystem wins. */
export const REMEDIATORS: readonly Remediator[] = [
  windowsRemediator,
  ...PACKAGE_MANAGERS.map((pm) =>
    pm.manager === "dotnet"
      ? dotnetRuntimeRemediator(packageManagerRemediator(pm))
      : packageManagerRemediator(pm),
  ),
];

/**
 * Turns fixable findings into grouped actions: packages from a base layer → one "rebuild on a
 * newer base image"; the rest → one upgrade per package manager. Findings without a fix get none.
 */
export function planRemediation(
  findings: readonly PlannedFinding[],
  ctx: RemediationContext = {},
  remediators: readonly Remediator[] = REMEDIATORS,
): RemediationPlan {
  const baseLayers = resolveBaseLayers(ctx);
  const perRemediator = new Map<Remediator, PlannedFinding[]>();
  const fromBase: PlannedFinding[] = [];
  const unhandled: PlannedFinding[] = [];
  for (const f of findings) {
    if (!hasFix(f)) continue;
    const remediator = remediators.find((r) =>
      r.ecosystems.some((e) => ecosystemMatches(e, f.package.ecosystem)),
    );
    if (baseLayers.has(f.layer) && !remediator?.handlesBaseLayers) fromBase.push(f);
    else if (remediator === undefined) unhandled.push(f);
    else perRemediator.set(remediator, [...(perRemediator.get(remediator) ?? []), f]);
  }

  const actions: RemediationAction[] = [];
  const byFinding = new Map<PolicyMatch, string>();
  const absorb = (plan: RemediationPlan) => {
    actions.push(...plan.actions);
    for (const [f, text] of plan.byFinding) byFinding.set(f, text);
  };
  for (const [remediator, group] of perRemediator) absorb(remediator.plan(group, ctx));
  if (unhandled.length > 0) absorb(manualRemediator.plan(unhandled, ctx));
  if (fromBase.length > 0) absorb(baseImagePlan(fromBase, ctx));

  actions.sort(
    (a, b) =>
      TIER_RANK[a.tier] - TIER_RANK[b.tier] ||
      severityRank(findings, a.findingIds) - severityRank(findings, b.findingIds) ||
      b.findingIds.length - a.findingIds.length ||
      a.key.localeCompare(b.key),
  );
  return { actions, byFinding };
}

/** Ecosystems nobody registered: still say what to upgrade, without a command. */
const manualRemediator = packageManagerRemediator({
  manager: "manual",
  ecosystems: [],
  noun: "packages",
  batch: false,
  pinsVersion: true,
});

function baseImagePlan(findings: readonly PlannedFinding[], ctx: RemediationContext): RemediationPlan {
  const targets = [...targetsOf(findings, ctx.compareVersions).values()].map((t) => t.target);
  const layers = [...new Set(findings.map((f) => f.layer))];
  const title =
    ctx.baseImage === undefined
      ? `Rebuild on a newer base image (base-image package${targets.length === 1 ? " with a fix" : "s with fixes"}: ${truncateList(targets.map((t) => t.name).join(", "))})`
      : `Rebuild on a newer ${ctx.baseImage} base image (${targets.length} of its packages ${targets.length === 1 ? "has a fix" : "have fixes"})`;
  const action: RemediationAction = {
    kind: "base-image-rebuild",
    layers,
    ...(ctx.baseImage === undefined ? {} : { baseImage: ctx.baseImage }),
    packages: targets,
    key: "base-image",
    title,
    findingIds: idsOf(findings),
    tier: mostUrgentTier(findings),
  };
  const perFinding =
    ctx.baseImage === undefined
      ? "rebuild on a newer base image"
      : `rebuild on a newer ${ctx.baseImage} base image`;
  return { actions: [action], byFinding: new Map(findings.map((f) => [f, perFinding])) };
}

function resolveBaseLayers(ctx: RemediationContext): ReadonlySet<string> {
  if (ctx.baseLayers instanceof Set) return ctx.baseLayers;
  const count = typeof ctx.baseLayers === "number" ? ctx.baseLayers : 1;
  return new Set((ctx.layers ?? []).slice(0, count));
}

interface TargetGroup {
  target: RemediationTarget;
  findings: PlannedFinding[];
}

/** One target per package name: the highest fixed version among its findings fixes them all. */
function targetsOf(findings: readonly PlannedFinding[], compare?: CompareVersions): Map<string, TargetGroup> {
  const byName = new Map<string, TargetGroup>();
  for (const f of findings) {
    const fixed = f.fixedVersion!;
    const group = byName.get(f.package.name);
    if (group === undefined) {
      byName.set(f.package.name, { target: { name: f.package.name, fixedVersion: fixed }, findings: [f] });
      continue;
    }
    group.findings.push(f);
    if ((compare ?? ecosystemCompare)(f.package.ecosystem, fixed, group.target.fixedVersion) > 0) {
      group.target.fixedVersion = fixed;
    }
  }
  return new Map([...byName].sort(([a], [b]) => a.localeCompare(b)));
}

/** The ecosystem's own scheme (shared/vulndb/versioning) when it knows both versions, else a natural order. */
export const ecosystemCompare: CompareVersions = (ecosystem, a, b) => {
  const scheme = versioningFor(ecosystem);
  return scheme?.isValid(a) && scheme.isValid(b) ? scheme.compare(a, b) : naturalCompare(a, b);
};

/** Digit runs compare as numbers, the rest as text: right for most schemes when none is supplied. */
export function naturalCompare(a: string, b: string): number {
  return a.localeCompare(b, "en", { numeric: true, sensitivity: "base" });
}

const TIER_RANK: Record<Tier, number> = { block: 0, fix: 1, report: 2 };

function mostUrgentTier(findings: readonly PlannedFinding[]): Tier {
  let best: Tier = "report";
  for (const f of findings) if (f.tier !== undefined && TIER_RANK[f.tier] < TIER_RANK[best]) best = f.tier;
  return best;
}

function severityRank(findings: readonly PlannedFinding[], ids: readonly string[]): number {
  const wanted = new Set(ids);
  let best = SEVERITY_ORDER.length;
  for (const f of findings) if (wanted.has(f.id)) best = Math.min(best, SEVERITY_ORDER.indexOf(f.severity));
  return best;
}

/** Distinct vulnerability ids, most severe first. */
function idsOf(findings: readonly PlannedFinding[]): string[] {
  const sorted = [...findings].sort(
    (a, b) =>
      SEVERITY_ORDER.indexOf(a.severity) - SEVERITY_ORDER.indexOf(b.severity) || a.id.localeCompare(b.id),
  );
  return [...new Set(sorted.map((f) => f.id))];
}

function truncateList(list: string, max = 120): string {
  return list.length <= max ? list : `${list.slice(0, max - 1)}…`;
}

/**
 * Package names come from the scanned image, which may be hostile: anything beyond a plain
 * package-name alphabet is single-quoted so a pasted command cannot run something else.
 */
export function shellWord(s: string): string {
  return /^[A-Za-z0-9@%+=:,./_-]+$/.test(s) ? s : quote(s);
}

function quote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}
