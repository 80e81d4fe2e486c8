import { describe, expect, it } from "vitest";
import type { HttpDeps } from "../../shared/http/http-deps.js";
import { dispatch } from "../../shared/http/router.js";
import { escapeControlCharacters } from "../../shared/model/log-text.js";
import { MemoryBus } from "../support/memory-bus.js";
import { MemoryTableStore } from "../support/memory-table-store.js";
import { FsBlobStore } from "../../shared/ports/fs-blob-store.js";
import { bearer, distributionPush, request } from "../pipeline/notifications.js";

const TOKEN = "s3cret-hook-token";
const DIGEST = `sha256:${"a".repeat(64)}`;

function makeDeps(lines: string[]): HttpDeps & { bus: MemoryBus } {
  return {
    tables: new MemoryTableStore(),
    blobs: new FsBlobStore("/nonexistent-unused"),
    bus: new MemoryBus(),
    now: () => new Date("2024-06-01T12:00:00Z"),
    log: (line) => lines.push(line),
    hookAuth: { bearerToken: TOKEN },
  };
}

const push = (
  deps: HttpDeps,
  repository: string,
  tag: string,
  digest = DIGEST,
  registry = "127.0.0.1:5000",
) =>
  dispatch(
    request("POST", "/api/hooks/distribution", {
      body: distributionPush(registry, repository, tag, digest, `e-${repository}-${tag}`),
      headers: { ...bearer(TOKEN), "content-type": "application/vnd.docker.distribution.events.v2+json" },
    }),
    deps,
  );

// hostile names a push event or a manual scan may carry; each must be refused with 400
const BAD_REPOSITORIES = [
  "evil\nrepo",
  "app\n2024-06-01 push distribution: x → pass",
  "Upper/Case",
  "a//b",
  "../etc",
  "a/b/",
  "-leading",
  "trailing-",
  "sp ace",
  "nul\u0000byte",
  "esc\u001b[31mred",
  `${"a".repeat(256)}`,
];
const BAD_TAGS = ["v1\nforged", ".hidden", "-dash", "t".repeat(129), "tab\tbed", "semi;colon"];

describe("names at intake follow the OCI distribution grammar", () => {
  it.each(BAD_REPOSITORIES)("a push of repository %j gets 400 and starts nothing", async (repository) => {
    const lines: string[] = [];
    const deps = makeDeps(lines);
    const res = await push(deps, repository, "v1");
    expect(res.status).toBe(400);
    expect(deps.bus.peek("scan-requests")).toHaveLength(0);
    for (const line of lines) expect(line).not.toMatch(/[\u0000-\u001f\u007f]/);
  });

  it.each(BAD_TAGS)("a push with tag %j gets 400", async (tag) => {
    const deps = makeDeps([]);
    expect((await push(deps, "app", tag)).status).toBe(400);
    expect(deps.bus.peek("scan-requests")).toHaveLength(0);
  });

  it.each(["sha256:xyz", `sha256:${"A".repeat(64)}`, `md5:${"a".repeat(32)}`])(
    "a push naming only the digest %j gets 400",
    async (digest) => {
      const deps = makeDeps([]);
      const res = await dispatch(
        request("POST", "/api/hooks/distribution", {
          body: distributionPush("127.0.0.1:5000", "app", "", digest, "e-digest"),
          headers: { ...bearer(TOKEN), "content-type": "application/vnd.docker.distribution.events.v2+json" },
        }),
        deps,
      );
      expect(res.status).toBe(400);
    },
  );

  it.each(["host with space:5000", "127.0.0.1:99999x", "127.0.0.1:70000"])(
    "a push from registry host %j gets 400",
    async (registry) => {
      const deps = makeDeps([]);
      expect((await push(deps, "app", "v1", DIGEST, registry)).status).toBe(400);
    },
  );

  it.each(["library/nginx", "a/b-c/d__e/f.g", "x0/y--z", "app"])(
    "accepts the valid repository %j",
    async (repository) => {
      const deps = makeDeps([]);
      expect((await push(deps, repository, "v1.2_3-rc.1")).status).toBe(202);
    },
  );

  it.each([
    ["app\ninjected → pass", "app\\ninjected → pass"],
    ["bell\u0007 esc\u001b[0m", "bell\\u0007 esc\\u001b[0m"],
    ["cr\rlf", "cr\\rlf"],
    ["tab\tok", "tab\\tok"],
    ["next-line\u0085 and del\u007f", "next-line\\u0085 and del\\u007f"],
  ])("log text %j is written as %j", (raw, escaped) => {
    expect(escapeControlCharacters(raw)).toBe(escaped);
  });
});
