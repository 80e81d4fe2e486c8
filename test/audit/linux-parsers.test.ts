import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { parseShadow, passwordState } from "../../shared/analysis/audit/linux/shadow.js";
import { parseSshdConfig } from "../../shared/analysis/audit/linux/sshd-config.js";
import { parseSudoers } from "../../shared/analysis/audit/linux/sudoers.js";

describe("shadow password fields", () => {
  it.each([
    ["", "empty"],
    ["*", "locked"],
    ["!", "locked"],
    ["!$6$salt$hash", "locked"],
    ["$1$saltsalt$qjXMwZ4zd4uCKvGOhLSk.1", "md5"],
    ["abJnggxhB/yWI", "des"],
    ["_J9..CCCCXBrJUJV154M", "des"],
    ["$6$salt$hash", "strong"],
    ["$y$j9T$salt$hash", "strong"],
    ["$2b$12$abcdefghijklmnopqrstuv", "strong"],
    ["$9$something", "unknown"],
    ["x", "locked"],
  ])("%j is %s", (field, state) => {
    expect(passwordState(field)).toBe(state);
  });

  it("skips comments, blank and malformed lines, and numbers lines from 1", () => {
    expect(parseShadow("# c\n\nroot::1:::\n:nobody\nbroken\r\nbin:*:1\n")).toEqual([
      { user: "root", line: 3, state: "empty" },
      { user: "bin", line: 6, state: "locked" },
    ]);
  });
});

describe("sshd_config", () => {
  it("reads keywords either way, drops comments and stops at the first Match block", () => {
    expect(
      parseSshdConfig(
        "# x\nPermitRootLogin yes # trailing\nPasswordAuthentication=no\nInclude a/*.conf b.conf\nMatch User x\nPermitEmptyPasswords yes\n",
      ),
    ).toEqual([
      { line: 2, keyword: "permitrootlogin", value: "yes" },
      { line: 3, keyword: "passwordauthentication", value: "no" },
      { line: 4, include: ["a/*.conf", "b.conf"] },
    ]);
  });
});

describe("sudoers", () => {
  it("finds NOPASSWD: ALL, across a continued line, and Defaults !authenticate, but not narrower grants", () => {
    const text = [
      "#includedir /etc/sudoers.d",
      "Defaults env_reset",
      "Defaults:deploy !authenticate",
      "%admin ALL=(ALL) NOPASSWD: /usr/bin/apt, \\",
      "  ALL",
      "ops ALL=(ALL) NOPASSWD: /bin/ls, PASSWD: ALL",
      "Cmnd_Alias X = NOPASSWD: ALL",
      "# deploy ALL=(ALL) NOPASSWD: ALL",
    ].join("\n");
    expect(parseSudoers(text).map((g) => g.line)).toEqual([3, 4]);
  });
});

describe("hostile input", () => {
  const junk = [
    randomBytes(64 * 1024),
    Buffer.from(`${"A".repeat(1_000_000)}:`),
    Buffer.from(":".repeat(100_000)),
    Buffer.from("\\\n".repeat(50_000)),
    Buffer.from("PermitRootLogin\0yes\n\uFFFF".repeat(1000)),
  ];
  it.each(junk.map((b, i) => [i, b] as const))(
    "parses junk %i without throwing, in bounded output",
    (_i, buf) => {
      const text = buf.toString("utf8");
      expect(parseShadow(text).length).toBeLessThanOrEqual(text.split("\n").length);
      expect(parseSshdConfig(text).length).toBeLessThanOrEqual(text.split("\n").length);
      const grants = parseSudoers(text);
      for (const g of grants) expect(g.text.length).toBeLessThanOrEqual(200);
    },
  );
});
