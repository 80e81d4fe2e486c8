import { describe, expect, it } from "vitest";
import { normalizeTarPath, parseWhiteout, resolveLinkTarget } from "../../shared/analysis/tar-path.js";

describe("tar names", () => {
  it.each([
    ["./etc/os-release", "etc/os-release"],
    ["/etc/passwd", "etc/passwd"],
    ["usr//lib/./x/", "usr/lib/x"],
    ["a/b/../c", "a/c"],
    ["./", ""],
    ["../etc/passwd", undefined],
    ["a/../../b", undefined],
    ["/../secret", undefined],
  ])("normalises %j to %j", (name, want) => {
    expect(normalizeTarPath(name)).toBe(want);
  });

  it.each([
    ["etc/os-release", "../usr/lib/os-release", "symlink", "usr/lib/os-release"],
    ["usr/bin/sh", "/bin/busybox", "symlink", "bin/busybox"],
    ["dir1/a", "../../secret.txt", "symlink", undefined],
    ["dir1/a", "/../secret.txt", "symlink", undefined],
    ["usr/lib/x", "lib/y", "hardlink", "lib/y"],
  ] as const)("resolves the %s link to %j lexically", (path, target, type, want) => {
    expect(resolveLinkTarget(path, target, type)).toBe(want);
  });

  it.each([
    ["etc/.wh.motd", { kind: "delete", path: "etc/motd" }],
    [".wh.top", { kind: "delete", path: "top" }],
    ["var/cache/.wh..wh..opq", { kind: "opaque", dir: "var/cache" }],
    [".wh..wh..opq", { kind: "opaque", dir: "" }],
    ["x/.wh..wh.plnk", { kind: "meta" }],
    ["etc/motd.wh.x", undefined],
  ])("reads %j as a whiteout %j", (path, want) => {
    expect(parseWhiteout(path)).toEqual(want);
  });
});
