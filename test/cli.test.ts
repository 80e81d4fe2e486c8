import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { REPO_ROOT, runCli } from "./support/cli.js";

describe("portcullis CLI", () => {
  it("lists every command in --help", async () => {
    const r = await runCli(["--help"]);
    expect(r.code).toBe(0);
    for (const cmd of ["scan", "sbom", "db", "version-compare", "serve", "track"])
      expect(r.stdout).toContain(cmd);
  });

  it("reads app settings through the settings schema: a bad one fails db update before any fetch, naming it", async () => {
    const r = await runCli(["db", "update", "--ecosystems", "npm", "--db-url", "http://127.0.0.1:9/"], {
      env: { PORTCULLIS_MAX_DELIVERIES: "0" },
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^portcullis: invalid app settings: .*PORTCULLIS_MAX_DELIVERIES/);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  });

  it("exits 2 with a one-line reason on an unknown command", async () => {
    const r = await runCli(["frobnicate"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown command/);
  });

  it("stops quietly, without a stack trace, when the reader of stdout goes away (`| head`)", async () => {
    const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
    const child = spawn(
      process.execPath,
      ["--import", tsx, path.join(REPO_ROOT, "shared/cli/run.ts"), "version-compare", "npm", "--stdin"],
      { cwd: REPO_ROOT, stdio: ["pipe", "pipe", "pipe"] },
    );
    const err: Buffer[] = [];
    child.stderr.on("data", (c: Buffer) => err.push(c));
    // like `head -1`: read the first chunk, then close the pipe while answers are still being written
    child.stdout.once("data", () => child.stdout.destroy());
    child.stdin.on("error", () => {});
    child.stdin.end("1.0.0 2.0.0\n".repeat(200_000));
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    const stderr = Buffer.concat(err).toString();
    expect(stderr).not.toMatch(/EPIPE|Unhandled 'error' event|at /);
    expect(code).toBe(0);
  });
});
