import { describe, expect, it } from "vitest";
import { runCli } from "../../support/cli.js";

describe("portcullis version-compare", () => {
  it("prints <, = or > for one pair under the ecosystem's rules", async () => {
    const debian = await runCli(["version-compare", "Debian:12", "1:2.38.1-5+deb12u3", "2.39-1"]);
    expect(debian).toMatchObject({ code: 0, stdout: ">\n", stderr: "" });
    const windows = await runCli(["version-compare", "Windows", "26100.3775", "10.0.26100.4061"]);
    expect(windows).toMatchObject({ code: 0, stdout: "<\n" });
    const npm = await runCli(["version-compare", "npm", "1.2.3+build", "v1.2.3"]);
    expect(npm).toMatchObject({ code: 0, stdout: "=\n" });
  });

  it("answers --stdin pairs one per line, skipping blank lines and reporting malformed ones at the end", async () => {
    const input = ["1.0.0-r0 1.0.0-r1", "", "1.2_rc1 1.2", "just-one", "1.10 1.9", "a b c", "2.0 2.0"].join(
      "\n",
    );
    const r = await runCli(["version-compare", "Alpine:v3.20", "--stdin"], { input });
    expect(r.stdout).toBe("<\n<\n>\n=\n");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("line 4:");
    expect(r.stderr).toContain("line 6:");
  });

  it("exits 0 on --stdin input that is all well-formed", async () => {
    const r = await runCli(["version-compare", "PyPI", "--stdin"], { input: "1.0 1.0a1\r\n1!0.1 2.0\n" });
    expect(r).toMatchObject({ code: 0, stdout: ">\n>\n", stderr: "" });
  });

  it("exits 2 with a one-line reason on an unknown ecosystem", async () => {
    const r = await runCli(["version-compare", "Gentoo", "1", "2"]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/unknown ecosystem "Gentoo"/);
  });

  it("exits 2 when a version is missing", async () => {
    const r = await runCli(["version-compare", "npm", "1.0.0"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/needs two versions/);
  });

  it("still compares a version the scheme refuses, with a warning, as dpkg does", async () => {
    const r = await runCli(["version-compare", "Debian", "abc", "1.0"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(">\n");
    expect(r.stderr).toMatch(/"abc" is not a valid dpkg version/);
  });
});
