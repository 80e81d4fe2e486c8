import { describe, expect, it } from "vitest";
import { packagesToMatch } from "../../shared/matching/match.js";
import { DEFAULT_POLICY, PolicySchema } from "../../shared/policy/policy.js";
import { pkg } from "./support/packages.js";

const plain = pkg("npm", "left-pad", "1.3.0");
const dev = { ...pkg("npm", "mocha", "10.0.0"), dev: true };
const osOwned = {
  ...pkg("PyPI", "pyyaml", "6.0"),
  installedBy: { name: "python3-yaml", version: "6.0-3+b2", purl: "pkg:deb/debian/python3-yaml@6.0-3%2Bb2" },
};
const all = [plain, dev, osOwned];
const names = (options: Parameters<typeof packagesToMatch>[1]) =>
  packagesToMatch(all, options).map((p) => p.name);

describe("which packages are matched", () => {
  it("by default (the default policy's values), neither dev dependencies nor OS-installed language packages", () => {
    expect(DEFAULT_POLICY.devDependencies).toBe("ignore");
    expect(DEFAULT_POLICY.osOwnedPackages).toBe("os");
    expect(names(DEFAULT_POLICY)).toEqual(["left-pad"]);
    expect(names({})).toEqual(["left-pad"]);
  });

  it("each when the policy asks for it", () => {
    expect(names(PolicySchema.parse({ devDependencies: "match" }))).toEqual(["left-pad", "mocha"]);
    expect(names(PolicySchema.parse({ osOwnedPackages: "both" }))).toEqual(["left-pad", "pyyaml"]);
    expect(() => PolicySchema.parse({ devDependencies: "yes" })).toThrow();
  });
});
