import { describe, expect, it } from "vitest";
import { streamMarker, markerKeyOf, streamOf } from "../../shared/tracking/image-stream.js";
import { chooseTarget, repositoryOnHost } from "../../shared/tracking/target-repository.js";
import { TrackingConfigSchema } from "../../shared/policy/tracking-config.js";

const config = TrackingConfigSchema.parse({
  tagStreams: [{ name: "1.x", tags: ["1.*"] }],
  repositories: [
    {
      images: ["team-a/**"],
      github: "acme/team-a",
      labels: ["team-a"],
      assignees: ["alice"],
      threshold: "block",
    },
    { images: ["127.0.0.1:5000/legacy/*"], github: "acme/legacy" },
  ],
});

describe("which repository tracks an image", () => {
  const cases: [string, string, Record<string, string> | undefined, string][] = [
    [
      "label on the host",
      "other/app",
      { "org.opencontainers.image.source": "https://github.com/acme/app" },
      "label acme/app",
    ],
    [
      "label with .git",
      "other/app",
      { "org.opencontainers.image.source": "https://github.com/acme/app.git" },
      "label acme/app",
    ],
    [
      "label on another host → mapping",
      "team-a/api",
      { "org.opencontainers.image.source": "https://gitlab.com/acme/app" },
      "mapping acme/team-a",
    ],
    ["mapping by repository glob", "team-a/api/v2", undefined, "mapping acme/team-a"],
    ["mapping by registry/repository glob", "legacy/tool", undefined, "mapping acme/legacy"],
    ["nothing matches → untracked", "other/app", undefined, "untracked"],
    [
      "garbage label → untracked",
      "other/app",
      { "org.opencontainers.image.source": "https://github.com/../../x y" },
      "untracked",
    ],
  ];
  for (const [name, repository, labels, expected] of cases)
    it(name, () => {
      const choice = chooseTarget(
        { registry: "127.0.0.1:5000", repository, ...(labels ? { labels } : {}) },
        config,
        "https://github.com",
      );
      expect(
        choice.tracked ? `${choice.target.via} ${choice.target.owner}/${choice.target.repo}` : "untracked",
      ).toBe(expected);
      if (!choice.tracked) expect(choice.reason).toMatch(/no tracking mapping matches/);
    });

  it("takes the mapping's labels, assignees and threshold", () => {
    const choice = chooseTarget({ registry: "r", repository: "team-a/x" }, config, "https://github.com");
    expect(choice).toMatchObject({
      tracked: true,
      target: { labels: ["team-a"], assignees: ["alice"], threshold: "block" },
    });
  });

  it("honours an Enterprise web host with a path prefix", () => {
    expect(repositoryOnHost("https://ghe.example.test/git/acme/app", "https://ghe.example.test/git")).toEqual(
      { owner: "acme", repo: "app" },
    );
    expect(repositoryOnHost("https://github.com/acme/app", "https://ghe.example.test/git")).toBeUndefined();
  });
});

describe("image streams", () => {
  it("one issue per repository by default, per tag stream when configured", () => {
    expect(streamOf({ registry: "r", repository: "a" }, "latest", config).key).toBe("r/a");
    expect(streamOf({ registry: "r", repository: "a" }, "1.4.2", config).key).toBe("r/a#1.x");
    expect(streamOf({ registry: "r", repository: "a" }, undefined, config).key).toBe("r/a");
  });

  it("round-trips the hidden marker, and ignores a forged one that does not parse", () => {
    const key = "127.0.0.1:5000/team/app#1.x";
    expect(markerKeyOf(`text\n${streamMarker(key)}\nmore`)).toBe(key);
    expect(markerKeyOf("<!-- portcullis:stream %E0%A4%A -->")).toBeUndefined();
    expect(markerKeyOf("no marker")).toBeUndefined();
  });
});
