import { describe, expect, it } from "vitest";
import { runCli } from "./support/cli.js";

describe("portcullis CLI", () => {
  it("lists every command in --help", async () => {
    const r = await runCli(["--help"]);
    expect(r.code).toBe(0);
    for (const cmd of ["scan", "sbom", "db", "version-compare", "serve"]) expect(r.stdout).toContain(cmd);
  });

  it("exits 2 with a one-line reason on an unknown command", async () => {
    const r = await runCli(["frobnicate"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown command/);
  });
});
