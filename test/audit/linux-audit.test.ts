import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MisconfigurationMatch } from "../../shared/model/report.js";
import { FsBlobStore } from "../../shared/ports/fs-blob-store.js";
import { corpusPath } from "../support/corpus.js";
import { buildDebianTestImage, type DebianTestImage } from "../support/debian-image.js";
import { inventoryOf, modeLayer, StackedSource } from "./support/stacked-image.js";

const LOCKED = (user: string) => `${user}:*:19000:0:99999:7:::`;
const BAD_SHADOW = [
  "root:$6$Qm1Dh5Tt$3pO2uQ0n3dJ7kS2Y8vQ5fQ1lD2uH6wZ7cB4xR9aN0eT5gL8mK1jV3sF6hP0yU2iO4qW7zX9bC1dE3fG5hJ7kL9:19000:0:99999:7:::",
  LOCKED("daemon"),
  "mallory::19000:0:99999:7:::",
  "alice:$1$saltsalt$qjXMwZ4zd4uCKvGOhLSk.1:19000:0:99999:7:::",
  "bob:abJnggxhB/yWI:19000:0:99999:7:::",
  "carol:!$y$j9T$abc$def:19000:0:99999:7:::",
].join("\n");

let debian: DebianTestImage;
let dir: string;
let store: FsBlobStore;
beforeAll(async () => {
  debian = await buildDebianTestImage();
  dir = await mkdtemp(path.join(tmpdir(), "portcullis-audit-"));
  store = new FsBlobStore(dir);
}, 600_000);
afterAll(() => rm(dir, { recursive: true, force: true }));

const bad = () =>
  modeLayer([
    { name: "etc/shadow", content: `${BAD_SHADOW}\n`, mode: 0o640 },
    {
      name: "etc/ssh/sshd_config",
      content: "Include /etc/ssh/sshd_config.d/*.conf\n# PermitRootLogin no\nPermitRootLogin yes\n",
    },
    {
      name: "etc/ssh/sshd_config.d/50-cloud.conf",
      content:
        "PermitEmptyPasswords yes\nPasswordAuthentication=yes\nMatch User alice\n  PermitRootLogin no\n",
    },
    {
      name: "etc/sudoers.d/deploy",
      content:
        "# CI deploys\ndeploy ALL=(ALL:ALL) NOPASSWD: ALL\n%ops ALL=(ALL) NOPASSWD: /usr/bin/systemctl\n",
      mode: 0o440,
    },
    // sudo ignores files with a dot in their name: no finding
    { name: "etc/sudoers.d/README.txt", content: "deploy ALL=(ALL) NOPASSWD: ALL\n" },
    { name: "usr/local/bin/backdoor", content: "#!/bin/sh\n", mode: 0o4755 },
  ]);

const fixes = () =>
  modeLayer([
    {
      name: "etc/shadow",
      content: `${["root", "daemon", "mallory", "alice", "bob"].map(LOCKED).join("\n")}\n`,
      mode: 0o640,
    },
    { name: "etc/ssh/sshd_config", content: "Include /etc/ssh/sshd_config.d/*.conf\nPermitRootLogin no\n" },
    { whiteout: "etc/ssh/sshd_config.d/50-cloud.conf" },
    { name: "etc/sudoers.d/deploy", content: "deploy ALL=(ALL:ALL) ALL\n", mode: 0o440 },
    // `chmod u-s` in a later layer copies the file up without the bit
    { name: "usr/local/bin/backdoor", content: "#!/bin/sh\n", mode: 0o755 },
  ]);

const linux = (list: MisconfigurationMatch[] | undefined) =>
  (list ?? []).filter((m) => m.id.startsWith("PCS-LNX-"));
const summary = (list: MisconfigurationMatch[]) =>
  list
    .map(
      (m) =>
        `${m.id} ${m.evidence.map((e) => `${e.location}${e.line === undefined ? "" : `:${e.line}`}`).join(" ")}`,
    )
    .sort();

describe("the Linux audit on the real Debian image", () => {
  it("finds nothing in the unmodified image: locked accounts, no sshd, every setuid file from a package", async () => {
    const inv = await inventoryOf(new StackedSource(debian, []), store);
    expect(inv.packages.length).toBeGreaterThan(50);
    expect(linux(inv.misconfigurations)).toEqual([]);
    // the setuid binaries are really there, and owned by their packages
    const fact = inv.facts?.["audit-linux"] as { setuid: { path: string; packaged: boolean }[] };
    expect(fact.setuid.map((s) => s.path)).toEqual(expect.arrayContaining(["usr/bin/su", "usr/bin/passwd"]));
    expect(fact.setuid.every((s) => s.packaged)).toBe(true);
  }, 300_000);

  it("finds each bad setting a layer adds, with its file and line, and the RUN line that fixes it", async () => {
    const layer = await bad();
    const inv = await inventoryOf(new StackedSource(debian, [layer]), store);
    const found = linux(inv.misconfigurations);
    expect(summary(found)).toEqual([
      "PCS-LNX-0001 /etc/shadow:3",
      "PCS-LNX-0002 /etc/shadow:4",
      "PCS-LNX-0002 /etc/shadow:5",
      "PCS-LNX-0003 /etc/shadow:1",
      "PCS-LNX-0004 /etc/ssh/sshd_config:3",
      "PCS-LNX-0005 /etc/ssh/sshd_config.d/50-cloud.conf:1",
      "PCS-LNX-0006 /etc/ssh/sshd_config.d/50-cloud.conf:1 /etc/ssh/sshd_config.d/50-cloud.conf:2 /etc/shadow:3",
      "PCS-LNX-0007 /etc/sudoers.d/deploy:2",
      "PCS-LNX-0008 /usr/local/bin/backdoor",
    ]);
    for (const m of found) expect(m.layer).toBe(layer.ref.digest);
    const byId = (id: string) => found.find((m) => m.id === id)!;
    expect(byId("PCS-LNX-0006").severity).toBe("critical");
    expect(byId("PCS-LNX-0004").remediation).toEqual({
      shell: "sh",
      script: "sed -i '3s/.*/PermitRootLogin no/' /etc/ssh/sshd_config",
    });
    expect(byId("PCS-LNX-0007").remediation.script).toBe(
      "sed -i '2s/NOPASSWD:[[:space:]]*//' /etc/sudoers.d/deploy",
    );
    expect(byId("PCS-LNX-0008").evidence[0]!.found).toBe("setuid (mode 4755), in no package's file list");
    expect(byId("PCS-LNX-0006").remediation.script).toBe(
      "passwd -l mallory && sed -i '1s/.*/PermitEmptyPasswords no/' /etc/ssh/sshd_config.d/50-cloud.conf",
    );
    // no hash from /etc/shadow reaches the inventory
    expect(JSON.stringify(inv)).not.toContain("saltsalt");
    expect(JSON.stringify(inv)).not.toContain("abJnggxhB");
  }, 300_000);

  it("finds nothing once a later layer fixes each setting again: the later layer's file wins", async () => {
    const inv = await inventoryOf(new StackedSource(debian, [await bad(), await fixes()]), store);
    expect(linux(inv.misconfigurations)).toEqual([]);
  }, 300_000);
});

describe("the setuid check without package file lists", () => {
  // an image whose packages are not listed by file (rpm, apk-tools 3): the check cannot be decided
  const noPackageLists = { layers: [], layoutDir: "" } as unknown as DebianTestImage;

  it("warns that setuid files were not compared, instead of passing them", async () => {
    const layer = await modeLayer([
      { name: "etc/os-release", content: 'ID=rocky\nVERSION_ID="9.3"\n' },
      { name: "usr/bin/passwd", content: "\x7fELF", mode: 0o4755 },
      { name: "usr/local/bin/tool", content: "#!/bin/sh\n", mode: 0o2755 },
    ]);
    const inv = await inventoryOf(new StackedSource(noPackageLists, [layer]), store);
    expect(linux(inv.misconfigurations).map((m) => m.id)).not.toContain("PCS-LNX-0008");
    const warning = inv.warnings.find((w) => w.code === "setuid-unverified");
    expect(warning?.message).toContain("2 setuid/setgid file(s)");
    expect(warning?.message).toContain("/usr/local/bin/tool");
  });

  it("compares setuid files with a real rpm database's file lists (CBL-Mariner, SQLite)", async () => {
    const rpmdb = readFileSync(corpusPath("pkgdb/rpm/go-rpmdb/cbl-mariner-2.0/rpmdb.sqlite"));
    const layer = await modeLayer([
      { name: "var/lib/rpm/rpmdb.sqlite", content: rpmdb },
      // listed as /bin/passwd (merged /usr) and /usr/bin/su (rpm -qla on the same database)
      { name: "usr/bin/passwd", content: "\x7fELF", mode: 0o4755 },
      { name: "usr/bin/su", content: "\x7fELF", mode: 0o4755 },
      { name: "usr/local/bin/backdoor", content: "#!/bin/sh\n", mode: 0o4755 },
    ]);
    const inv = await inventoryOf(new StackedSource(noPackageLists, [layer]), store);
    expect(inv.warnings.map((w) => w.code)).not.toContain("setuid-unverified");
    expect(
      linux(inv.misconfigurations)
        .filter((m) => m.id === "PCS-LNX-0008")
        .map((m) => m.evidence[0]!.location),
    ).toEqual(["/usr/local/bin/backdoor"]);
  });

  it("warns rather than calls every setuid file unowned when the rpm database cannot be read", async () => {
    const layer = await modeLayer([
      { name: "var/lib/rpm/rpmdb.sqlite", content: Buffer.from("SQLite format 3\0 but truncated") },
      { name: "usr/bin/su", content: "\x7fELF", mode: 0o4755 },
    ]);
    const inv = await inventoryOf(new StackedSource(noPackageLists, [layer]), store);
    expect(linux(inv.misconfigurations).map((m) => m.id)).not.toContain("PCS-LNX-0008");
    expect(inv.warnings.map((w) => w.code)).toContain("setuid-unverified");
  });

  it("says nothing when the image has no setuid file", async () => {
    const layer = await modeLayer([{ name: "usr/local/bin/tool", content: "#!/bin/sh\n", mode: 0o755 }]);
    const inv = await inventoryOf(new StackedSource(noPackageLists, [layer]), store);
    expect(inv.warnings.map((w) => w.code)).not.toContain("setuid-unverified");
  });
});
