import { idsOf, mostUrgentTier, type Remediator, targetsOf } from "./remediator.js";

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
export const dotnetRuntimeRemediator = (packages: Remediator): Remediator => ({
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
