// Builds a real rpmdb.sqlite at test time with Debian's rpm: tiny packages from rpmbuild, installed
// with --justdb into a scratch --dbpath; rpm -qa against the same DB is the expected answer.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

/** rpm -qa's columns, the same as the corpus' `expected.rpm-qa.tsv` files. */
export const QUERY_FORMAT =
  "%{NAME}\\t%{EPOCHNUM}\\t%{VERSION}\\t%{RELEASE}\\t%{ARCH}\\t%{SOURCERPM}\\t%{VENDOR}\\n";

export interface SpecPackage {
  name: string;
  version: string;
  release: string;
  epoch?: number;
  arch: "noarch" | "x86_64";
  /** sub-packages, so a binary's source RPM differs from its name */
  subpackages?: string[];
  files?: string[];
}

function spec(p: SpecPackage): string {
  const files = (p.files ?? []).map((f) => `/${f}`);
  const install = files
    .map((f) => `mkdir -p %{buildroot}${path.dirname(f)} && echo x > %{buildroot}${f}`)
    .join("\n");
  return [
    `Name: ${p.name}`,
    `Version: ${p.version}`,
    `Release: ${p.release}`,
    ...(p.epoch !== undefined ? [`Epoch: ${p.epoch}`] : []),
    "Summary: test package",
    "License: MIT",
    "%description",
    "test package",
    ...(p.subpackages ?? []).flatMap((s) => [
      `%package -n ${s}`,
      "Summary: sub",
      `%description -n ${s}`,
      "sub",
      `%files -n ${s}`,
    ]),
    "%install",
    install,
    "%files",
    ...files,
    "",
  ].join("\n");
}

/** A scratch dir with a built rpmdb.sqlite; `expected` is rpm -qa's TSV for it. */
export function buildRpmDb(packages: SpecPackage[]): { db: Buffer; expected: string } {
  const dir = mkdtempSync(path.join(tmpdir(), "portcullis-rpm-"));
  try {
    const rpms: string[] = [];
    for (const p of packages) {
      const file = path.join(dir, `${p.name}.spec`);
      writeFileSync(file, spec(p));
      execFileSync(
        "rpmbuild",
        [
          "-bb",
          "--quiet",
          "--target",
          p.arch,
          "--define",
          `_topdir ${dir}/top`,
          "--define",
          `_rpmdir ${dir}/out`,
          "--define",
          "vendor Portcullis Test",
          "--define",
          "debug_package %{nil}",
          "--define",
          "__os_install_post %{nil}",
          file,
        ],
        { stdio: ["ignore", "ignore", "pipe"] },
      );
      rpms.push(`${dir}/out/${p.arch}/${p.name}-${p.version}-${p.release}.${p.arch}.rpm`);
      for (const s of p.subpackages ?? []) {
        rpms.push(`${dir}/out/${p.arch}/${s}-${p.version}-${p.release}.${p.arch}.rpm`);
      }
    }
    const dbpath = path.join(dir, "db");
    execFileSync("rpm", ["--initdb", "--dbpath", dbpath]);
    execFileSync(
      "rpm",
      [
        "-i",
        "--justdb",
        "--nodeps",
        "--noscripts",
        "--ignorearch",
        "--ignoreos",
        "--dbpath",
        dbpath,
        ...rpms,
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    const expected = execFileSync("rpm", ["-qa", "--dbpath", dbpath, "--qf", QUERY_FORMAT]).toString();
    return { db: readFileSync(path.join(dbpath, "rpmdb.sqlite")), expected };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
