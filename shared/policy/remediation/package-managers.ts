import type { RemediationAction, RemediationTarget } from "../../model/remediation-action.js";
import type { PolicyMatch } from "../tier.js";
import { idsOf, mostUrgentTier, type Remediator, targetsOf, truncateList } from "./remediator.js";
import { quote, shellWord } from "./shell-word.js";

export interface PackageManager {
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

export const PACKAGE_MANAGERS: readonly PackageManager[] = [
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
export function packageManagerRemediator(pm: PackageManager): Remediator {
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

/** Ecosystems nobody registered: still say what to upgrade, without a command. */
export const manualRemediator = packageManagerRemediator({
  manager: "manual",
  ecosystems: [],
  noun: "packages",
  batch: false,
  pinsVersion: true,
});
