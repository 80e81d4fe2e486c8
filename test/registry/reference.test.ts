import { describe, expect, it } from "vitest";
import { formatImageReference, parseImageReference } from "../../shared/registry/reference.js";

describe("parseImageReference", () => {
  it.each([
    ["alpine", "docker.io/library/alpine:latest", "registry-1.docker.io"],
    ["alpine:3.20", "docker.io/library/alpine:3.20", "registry-1.docker.io"],
    ["bitnami/redis", "docker.io/bitnami/redis:latest", "registry-1.docker.io"],
    ["docker.io/alpine", "docker.io/library/alpine:latest", "registry-1.docker.io"],
    ["index.docker.io/library/alpine:edge", "docker.io/library/alpine:edge", "registry-1.docker.io"],
    ["ghcr.io/org/team/app:v1.2.3", "ghcr.io/org/team/app:v1.2.3", "ghcr.io"],
    ["localhost/app", "localhost/app:latest", "localhost"],
    ["127.0.0.1:5000/app:dev", "127.0.0.1:5000/app:dev", "127.0.0.1:5000"],
    ["docker://quay.io/app:1", "quay.io/app:1", "quay.io"],
    [
      `myacr.azurecr.io/app@sha256:${"a".repeat(64)}`,
      `myacr.azurecr.io/app@sha256:${"a".repeat(64)}`,
      "myacr.azurecr.io",
    ],
    [
      `app:1.0@sha256:${"b".repeat(64)}`,
      `docker.io/library/app:1.0@sha256:${"b".repeat(64)}`,
      "registry-1.docker.io",
    ],
  ])("normalises %s to %s (API host %s)", (input, canonical, apiHost) => {
    const ref = parseImageReference(input);
    expect(formatImageReference(ref)).toBe(canonical);
    expect(ref.transport === "registry" && ref.apiHost).toBe(apiHost);
  });

  it("keeps the tag and the digest of tag@digest", () => {
    expect(parseImageReference(`reg.example.com:8443/a/b:v2@sha512:${"c".repeat(128)}`)).toEqual({
      transport: "registry",
      registry: "reg.example.com:8443",
      apiHost: "reg.example.com:8443",
      repository: "a/b",
      tag: "v2",
      digest: `sha512:${"c".repeat(128)}`,
    });
  });

  it.each([
    ["oci:./layout", { transport: "oci", path: "./layout" }],
    ["oci:/images/app:1.0", { transport: "oci", path: "/images/app", tag: "1.0" }],
    ["oci-archive:app.tar", { transport: "oci-archive", path: "app.tar" }],
    ["oci-archive:out/app.tar:latest", { transport: "oci-archive", path: "out/app.tar", tag: "latest" }],
    ["docker-archive:saved.tar", { transport: "docker-archive", path: "saved.tar" }],
    [
      "docker-archive:saved.tar:busybox:1.36",
      { transport: "docker-archive", path: "saved.tar", tag: "busybox:1.36" },
    ],
  ])("reads the transport of %s", (input, expected) => {
    expect(parseImageReference(input)).toEqual(expected);
  });

  it.each([
    ["", "empty"],
    ["Alpine", "lowercase"],
    ["my image", "contains whitespace"],
    ["alpine:", "not a valid tag"],
    ["alpine:bad+tag", "not a valid tag"],
    ["alpine@sha256:123", "not a sha256 or sha512 digest"],
    ["alpine@md5:d41d8cd98f00b204e9800998ecf8427e", "not a sha256 or sha512 digest"],
    ["registry.example.com/", "not a repository name"],
    ["a/../b", "not a repository name"],
    ["oci:", "needs a path"],
    ["docker-archive:x.tar:", "empty tag"],
  ])("rejects %j with a reason (%s)", (input, reason) => {
    expect(() => parseImageReference(input)).toThrow(
      expect.objectContaining({ code: "invalid-reference", message: expect.stringContaining(reason) }),
    );
  });
});
