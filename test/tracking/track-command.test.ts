import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FsBlobStore } from "../../shared/ports/fs-blob-store.js";
import { writeTestDb } from "../pipeline/test-db.js";
import { runCli } from "../support/cli.js";
import { buildDebianTestImage, type DebianTestImage } from "../support/debian-image.js";

/** `portcullis track <image> --dry-run` on the real Debian test image, against the pipeline suites' DB. */
let dir: string;
let image: DebianTestImage;

beforeAll(async () => {
  image = await buildDebianTestImage();
  dir = await mkdtemp(path.join(os.tmpdir(), "portcullis-track-"));
  await writeTestDb(new FsBlobStore(path.join(dir, "cache")));
  await writeFile(
    path.join(dir, "portcullis.yaml"),
    "tracking:\n  repositories:\n    - images: ['**']\n      github: acme/app\n      labels: [team-a]\n",
  );
}, 600_000);
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const track = (args: string[]) =>
  runCli(["track", image.ociAmd64Ref, ...args, "--offline", "--cache-dir", path.join(dir, "cache")], {
    timeoutMs: 240_000,
  });

describe("portcullis track --dry-run", () => {
  it("prints where the issue would go, its title, labels and body", async () => {
    const r = await track(["--dry-run", "--policy", path.join(dir, "portcullis.yaml")]);
    expect(r.stderr).not.toMatch(/portcullis: /);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^repository: acme\/app \(from the tracking mapping\)$/m);
    expect(r.stdout).toMatch(/^title: Vulnerable image: /m);
    expect(r.stdout).toMatch(/^labels: portcullis, security, severity:critical, team-a$/m);
    expect(r.stdout).toMatch(/^would: open or update the issue \(\d+ finding\(s\) at or above fix\)$/m);
    expect(r.stdout).toContain("CVE-2099-0002");
    expect(r.stdout).toContain("<!-- portcullis:stream ");
  }, 300_000);

  it("says an image without a mapping or source label is untracked", async () => {
    // a directory without portcullis.yaml: the built-in policy, which maps nothing
    const empty = await mkdtemp(path.join(dir, "empty-"));
    const plain = await runCli(
      ["track", image.ociAmd64Ref, "--dry-run", "--offline", "--cache-dir", path.join(dir, "cache")],
      { cwd: empty, timeoutMs: 240_000 },
    );
    expect(plain.stdout).toMatch(
      /^untracked: no org\.opencontainers\.image\.source label and no tracking mapping matches/m,
    );
  }, 300_000);

  it("refuses to run without --dry-run (exit 2)", async () => {
    const r = await track([]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--dry-run/);
  }, 300_000);
});
