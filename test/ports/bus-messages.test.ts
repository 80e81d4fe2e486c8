import { describe, expect, it } from "vitest";
import {
  MESSAGE_SCHEMAS,
  messageId,
  PipelineMessageSchema,
  QUEUE_NAMES,
  ScanRequestMessageSchema,
  scanIdOf,
} from "../../shared/model/messages.js";

const DIGEST = "sha256:57a94fc99816c6aa225678b738ac40d85422e75dbb96115f1bb9b6ed77176166";
const LAYER = "sha256:fd18d0201d0ce0c5e103902d894f5d601fc5dde76688aa7dae786840141d23e4";
const amd64 = { os: "linux", architecture: "amd64" };

describe("scanIdOf", () => {
  it("maps the same push to the same scan, however the registry is spelled", () => {
    const a = scanIdOf({
      registry: "docker.io",
      repository: "library/nginx",
      digest: DIGEST,
      platform: amd64,
    });
    const b = scanIdOf({
      registry: "Registry-1.Docker.io",
      repository: "library/nginx",
      digest: DIGEST,
      platform: amd64,
    });
    expect(a).toBe(b);
    expect(a).toMatch(/^[a-f0-9]{32}$/);
  });

  it("tells platforms, repositories, digests and tag-only requests apart", () => {
    const base = { registry: "ghcr.io", repository: "o/app", digest: DIGEST };
    const ids = new Set([
      scanIdOf({ ...base, platform: amd64 }),
      scanIdOf({ ...base, platform: { os: "linux", architecture: "arm64", variant: "v8" } }),
      scanIdOf({
        ...base,
        platform: { os: "windows", architecture: "amd64", "os.version": "10.0.20348.2340" },
      }),
      scanIdOf({ ...base, platform: { os: "windows", architecture: "amd64", "os.version": "10.0.26100.1" } }),
      scanIdOf(base),
      scanIdOf({ ...base, repository: "o/app2" }),
      scanIdOf({ registry: "ghcr.io", repository: "o/app", tag: "latest" }),
    ]);
    expect(ids.size).toBe(7);
    expect(() => scanIdOf({ registry: "r", repository: "x" })).toThrow(/digest or a tag/);
  });
});

describe("messageId", () => {
  const scanId = scanIdOf({
    registry: "docker.io",
    repository: "library/nginx",
    digest: DIGEST,
    platform: amd64,
  });

  it("is stage + scan + part, readable when it can be, and within Service Bus's 128 characters", () => {
    expect(messageId("matching", scanId)).toBe(`matching.${scanId}`);
    expect(messageId("layer-analysis", scanId, LAYER)).toBe(`layer-analysis.${scanId}.${LAYER}`);
    const sha512 = `sha512:${"ab".repeat(64)}`;
    const hashed = messageId("layer-analysis", scanId, sha512);
    expect(hashed).toMatch(new RegExp(`^layer-analysis\\.${scanId}\\.[a-f0-9]{40}$`));
    expect(hashed).toBe(messageId("layer-analysis", scanId, sha512));
    for (const q of QUEUE_NAMES) expect(messageId(q, scanId, sha512).length).toBeLessThanOrEqual(128);
  });

  it("refuses unknown stages and malformed scan ids", () => {
    expect(() => messageId("nope" as never, scanId)).toThrow();
    expect(() => messageId("matching", "not-a-scan")).toThrow();
  });
});

describe("message schemas", () => {
  const image = {
    ref: `docker.io/library/nginx@${DIGEST}`,
    registry: "docker.io",
    repository: "library/nginx",
    digest: DIGEST,
    tags: ["1.27"],
    platform: amd64,
  };
  const scanId = scanIdOf({ ...image, platform: amd64 });

  it("accepts one valid message per queue and routes by type", () => {
    const samples = {
      "scan-requests": {
        type: "scan-request",
        v: 1,
        scanId,
        image: { registry: "docker.io", repository: "library/nginx", tag: "1.27" },
        trigger: { kind: "push", eventId: "e1", source: "distribution" },
      },
      "layer-analysis": {
        type: "layer-analysis",
        v: 1,
        scanId,
        image,
        layer: { digest: LAYER, mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", size: 26576195 },
        index: 0,
        total: 7,
      },
      matching: {
        type: "matching",
        v: 1,
        scanId,
        image,
        inventoryKey: `inventories/${scanId}.json`,
        reason: "scan",
      },
      verdict: {
        type: "verdict",
        v: 1,
        scanId,
        image,
        inventoryKey: "i",
        reportKey: "r",
        dbVersion: "2024-06-01",
      },
      tracking: {
        type: "tracking",
        v: 1,
        scanId,
        image,
        reportKey: "r",
        verdict: { decision: "block", reasons: ["CVE-2024-1 critical"] },
        dbVersion: "2024-06-01",
      },
    } as const;
    for (const q of QUEUE_NAMES) {
      expect(MESSAGE_SCHEMAS[q].parse(samples[q])).toEqual(samples[q]);
      expect(PipelineMessageSchema.parse(samples[q]).type).toBe(samples[q].type);
    }
  });

  it.each([
    ["a request with neither tag nor digest", { image: { registry: "docker.io", repository: "x" } }],
    ["a malformed digest", { image: { registry: "docker.io", repository: "x", digest: "sha256:1234" } }],
    ["another schema version", { v: 2 }],
    ["an unknown trigger", { trigger: { kind: "cron", source: "x" } }],
  ])("rejects %s", (_what, patch) => {
    const ok = {
      type: "scan-request",
      v: 1,
      scanId,
      image: { registry: "docker.io", repository: "x", tag: "1" },
      trigger: { kind: "manual", source: "api" },
    };
    expect(ScanRequestMessageSchema.safeParse(ok).success).toBe(true);
    expect(ScanRequestMessageSchema.safeParse({ ...ok, ...patch }).success).toBe(false);
  });
});
