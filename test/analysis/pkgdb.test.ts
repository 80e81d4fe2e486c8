import { describe, expect, it } from "vitest";
import { apkAnalyzer } from "../../shared/analysis/apk/apk-analyzer.js";
import { dpkgAnalyzer } from "../../shared/analysis/dpkg/dpkg-analyzer.js";
import { osAnalyzer } from "../../shared/analysis/os/os-analyzer.js";
import { fixture } from "./layers.js";

const STATUS = "var/lib/dpkg/status";

async function dpkg(name: string, path = STATUS) {
  return dpkgAnalyzer.analyze({ path, content: await fixture(`pkgdb/dpkg/${name}`) });
}
async function apk(name: string) {
  return apkAnalyzer.analyze({ path: "lib/apk/db/installed", content: await fixture(`pkgdb/apk/${name}`) });
}
const names = (out: { packages?: { name: string; version: string }[] }) =>
  (out.packages ?? []).map((p) => `${p.name}=${p.version}`);

describe("dpkg database", () => {
  it("lists exactly what dpkg-query lists for scalibr's valid status file, with source packages", async () => {
    const tsv = (await fixture("pkgdb/dpkg/scalibr/valid.expected.dpkg-query.tsv")).toString();
    const expected = tsv
      .split("\n")
      .filter((l) => l && !l.startsWith("#"))
      .map((l) => {
        const [name, version, arch, status, source] = l.split("\t") as [
          string,
          string,
          string,
          string,
          string,
        ];
        expect(status.trim()).toBe("ii");
        const m = /^(\S+)(?: \((.+)\))?$/.exec(source);
        return { name, version, arch, source: { name: m?.[1] ?? name, version: m?.[2] ?? version } };
      });
    const out = await dpkg("scalibr/valid");
    expect(out.warnings ?? []).toEqual([]);
    expect(out.packages?.map(({ name, version, arch, source }) => ({ name, version, arch, source }))).toEqual(
      expected,
    );
  });

  it("takes util-linux as the source of util-linux-extra at the source version, not the binNMU", async () => {
    const out = await dpkg("scalibr/valid");
    expect(out.packages?.find((p) => p.name === "util-linux-extra")?.source).toEqual({
      name: "util-linux",
      version: "2.38.1-5",
    });
  });

  it.each([
    ["scalibr/nopackage", ["foo=1.0", "bar=2.0"], 1],
    ["scalibr/noversion", ["foo=1.0", "bar=2.0"], 1],
    ["scalibr/trailingnewlines", ["acl=2.3.1-3"], 0],
    ["syft/image-dpkg/var/lib/dpkg/status", ["libpam-runtime=1.1.8-3.6"], 0],
  ] as const)("reads %s leniently", async (name, want, warnings) => {
    const out = await dpkg(name);
    expect(names(out)).toEqual(want);
    expect(out.warnings ?? []).toHaveLength(warnings);
  });

  it("counts only packages whose files are installed", async () => {
    const out = await dpkg("scalibr/statusfield");
    expect(names(out)).toEqual([
      "wantinstall_installed=1.0",
      "wantdeinstall_installed=1.0",
      "wantpurge_installed=1.0",
    ]);
  });

  it("reads distroless status.d files, where a missing Status means installed", async () => {
    expect(dpkgAnalyzer.required("var/lib/dpkg/status.d/libsqlite3-0")).toBe(true);
    expect(dpkgAnalyzer.required("var/lib/dpkg/status.d/libsqlite3-0.md5sums")).toBe(false);
    expect(dpkgAnalyzer.required("var/lib/dpkg/status-old")).toBe(false);
    const sqlite = await dpkg(
      "syft/image-distroless-deb/var/lib/dpkg/status.d/libsqlite3-0",
      "var/lib/dpkg/status.d/libsqlite3-0",
    );
    expect(sqlite.packages).toEqual([
      {
        kind: "dpkg",
        name: "libsqlite3-0",
        version: "3.34.1-3",
        arch: "arm64",
        source: { name: "sqlite3", version: "3.34.1-3" },
      },
    ]);
    const foo = await dpkg("scalibr/status.d/foo", "var/lib/dpkg/status.d/foo");
    expect(names(foo)).toEqual(["foo=1.2.3"]);
  });

  it("turns corrupt and empty status.d entries into warnings, not packages or crashes", async () => {
    const corrupt = await dpkg("syft/status.d/corrupt", "var/lib/dpkg/status.d/corrupt");
    expect(corrupt.packages).toEqual([]);
    expect(corrupt.warnings?.[0]?.code).toBe("dpkg-stanza-invalid");
    const empty = await dpkg("syft/status.d/empty", "var/lib/dpkg/status.d/empty");
    expect(empty.packages).toEqual([]);
    const multiple = await dpkg("syft/status.d/multiple", "var/lib/dpkg/status.d/multiple");
    expect(names(multiple)).toEqual(["tzdata=2020a-0+deb10u1", "util-linux=2.33.1-0.1"]);
    expect(multiple.warnings?.map((w) => w.message)).toEqual([
      expect.stringContaining("no-version has no Version"),
    ]);
  });

  it("keeps the binary epoch and the explicit source version of status.d entries", async () => {
    const out = await dpkg("syft/status.d/coreutils-relationships", "var/lib/dpkg/status.d/coreutils");
    expect(out.packages?.find((p) => p.name === "libattr1")).toMatchObject({
      version: "1:2.5.1-4",
      source: { name: "attr", version: "1:2.5.1-4" },
    });
    expect(out.packages?.find((p) => p.name === "libselinux1")?.source).toEqual({
      name: "libselinux",
      version: "3.4-1",
    });
    const deinstall = await dpkg("syft/status.d/deinstall", "var/lib/dpkg/status.d/linux");
    expect(names(deinstall)).toEqual(["linux-image-6.14.0-1012-aws=6.14.0-1012.12~24.04.1"]);
  });
});

describe("apk database", () => {
  it("reads the 14 packages of Alpine 3.10.4 with their origins", async () => {
    const out = await apk("trivy-alpine-3.10.4/lib/apk/db/installed");
    expect(out.warnings ?? []).toEqual([]);
    expect(out.packages).toHaveLength(14);
    expect(out.packages?.[0]).toEqual({
      kind: "apk",
      name: "musl",
      version: "1.1.22-r3",
      arch: "x86_64",
      source: { name: "musl", version: "1.1.22-r3" },
    });
    expect(out.packages?.find((p) => p.name === "libssl1.1")?.source).toEqual({
      name: "openssl",
      version: "1.1.1d-r2",
    });
    expect(out.packages?.find((p) => p.name === "libc-utils")).toMatchObject({
      version: "0.7.1-r0",
      source: { name: "libc-dev" },
    });
  });

  it("reads scalibr's installed db", async () => {
    const out = await apk("scalibr/installed");
    expect(names(out).slice(0, 4)).toEqual([
      "alpine-baselayout=3.4.3-r1",
      "alpine-baselayout-data=3.4.3-r1",
      "alpine-keys=2.4-r1",
      "apk-tools=2.14.0-r0",
    ]);
    expect(out.packages?.find((p) => p.name === "libcrypto3")?.source?.name).toBe("openssl");
  });

  it("uses the package name as source when there is no origin", async () => {
    const out = await apk("scalibr/no-origin");
    expect(out.packages).toEqual([
      {
        kind: "apk",
        name: "pkgname",
        version: "1.2.3",
        arch: "x86_64",
        source: { name: "pkgname", version: "1.2.3" },
      },
    ]);
  });

  it("skips a corrupt leading entry with a warning and keeps the rest", async () => {
    const out = await apk("syft/corrupt/lib/apk/db/installed");
    expect(names(out)).toEqual(["alpine-baselayout-data=3.2.0-r22"]);
    expect(out.warnings?.map((w) => w.code)).toEqual(["apk-entry-invalid"]);
  });
});

describe("os files", () => {
  it("reads Debian's os-release", async () => {
    const out = await osAnalyzer.analyze({
      path: "etc/os-release",
      content: await fixture("pkgdb/dpkg/syft/image-dpkg/etc/os-release"),
    });
    expect(out.os).toEqual({
      family: "debian",
      version: "12",
      name: "Debian GNU/Linux 12 (bookworm)",
      codename: "bookworm",
    });
  });

  it("reads alpine-release", async () => {
    const out = await osAnalyzer.analyze({
      path: "etc/alpine-release",
      content: await fixture("pkgdb/apk/trivy-alpine-3.10.4/etc/alpine-release"),
    });
    expect(out.os).toEqual({ family: "alpine", version: "3.10.4" });
  });
});
