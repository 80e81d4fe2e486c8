// A real rpm install built at test time: rpmbuild makes a noarch package (a script, a %config file,
// a data file over the content engine's hashing bound), rpm installs it under a root with a
// sqlite database at var/lib/rpm. Built once per machine in the test cache.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { cachedTestBuild } from "../../../support/test-cache.js";
import { runTool } from "../../../support/run-tool.js";

/** The installed files and the database, as layer entries (no leading slash). */
export const RPM_ROOT_FILES = [
  "usr/bin/portcullis-hello",
  "etc/portcullis-hello.conf",
  "usr/share/portcullis/data.txt",
  "var/lib/rpm/rpmdb.sqlite",
] as const;

const SPEC = `Name: portcullis-hello
Version: 1.0
Release: 1
Summary: integrity cross-check fixture
License: MIT
BuildArch: noarch
%description
A script, a config file and a data file for portcullis's tests.
%install
mkdir -p %{buildroot}/usr/bin %{buildroot}/etc %{buildroot}/usr/share/portcullis
printf '#!/bin/sh\\necho hello\\n' > %{buildroot}/usr/bin/portcullis-hello
chmod 755 %{buildroot}/usr/bin/portcullis-hello
printf 'greeting=hello\\n' > %{buildroot}/etc/portcullis-hello.conf
head -c 40000 /dev/zero | tr '\\0' 'd' > %{buildroot}/usr/share/portcullis/data.txt
%files
/usr/bin/portcullis-hello
%config(noreplace) /etc/portcullis-hello.conf
/usr/share/portcullis/data.txt
`;

async function load(dir: string): Promise<Map<string, Buffer> | undefined> {
  try {
    const files = new Map<string, Buffer>();
    for (const name of RPM_ROOT_FILES) files.set(name, await readFile(path.join(dir, "root", name)));
    return files;
  } catch {
    return undefined;
  }
}

/** The installed root's files by layer path. */
export function installedRpmRoot(): Promise<Map<string, Buffer>> {
  return cachedTestBuild("rpm-integrity-root-v1", load, async (work) => {
    const top = path.join(work, "top");
    await mkdir(path.join(top, "SPECS"), { recursive: true });
    const spec = path.join(top, "SPECS", "hello.spec");
    await writeFile(spec, SPEC);
    await runTool("rpmbuild", ["-bb", "--quiet", "--define", `_topdir ${top}`, spec]);
    const rpm = path.join(top, "RPMS", "noarch", "portcullis-hello-1.0-1.noarch.rpm");
    const root = path.join(work, "root");
    await mkdir(root, { recursive: true });
    await runTool("rpm", [
      "-i",
      "--root",
      root,
      "--nodeps",
      "--noscripts",
      "--define",
      "_dbpath /var/lib/rpm",
      rpm,
    ]);
  });
}
