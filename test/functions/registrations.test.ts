import { beforeAll, describe, expect, it, vi } from "vitest";

// Capture every registration instead of talking to a Functions host.
const registered = vi.hoisted(() => ({
  calls: [] as { kind: string; name: string; options: Record<string, unknown> }[],
}));
vi.mock("@azure/functions", () => {
  const record = (kind: string) => (name: string, options: Record<string, unknown>) => {
    registered.calls.push({ kind, name, options });
  };
  return {
    app: {
      http: record("http"),
      eventGrid: record("eventGrid"),
      serviceBusQueue: record("serviceBusQueue"),
      timer: record("timer"),
    },
  };
});

// DefaultAzureCredential probes a metadata address: registration must never construct one.
const credentials = vi.hoisted(() => ({ constructed: 0 }));
vi.mock("@azure/identity", () => ({
  DefaultAzureCredential: class {
    constructor() {
      credentials.constructed++;
      throw new Error("DefaultAzureCredential constructed in a test");
    }
  },
}));

beforeAll(async () => {
  await import("../../functions/index.js");
});

const byKind = (kind: string) => registered.calls.filter((c) => c.kind === kind);
const byName = (name: string) => {
  const found = registered.calls.find((c) => c.name === name);
  if (!found) throw new Error(`${name} is not registered`);
  return found.options;
};

describe("functions/ registrations", () => {
  it("registers each function once, each with a handler", () => {
    const names = registered.calls.map((c) => c.name);
    expect(new Set(names).size).toBe(names.length);
    for (const call of registered.calls) expect(typeof call.options.handler).toBe("function");
  });

  it.each([
    ["hookDistribution", "hooks/distribution", ["POST"], "anonymous"],
    ["hookAcr", "hooks/acr", ["POST"], "anonymous"],
    ["hookEventGrid", "hooks/eventgrid", ["POST", "OPTIONS"], "anonymous"],
    ["hookHarbor", "hooks/harbor", ["POST"], "anonymous"],
    ["hookGitHub", "hooks/github", ["POST"], "anonymous"],
    ["startScan", "scans", ["POST"], "function"],
    ["scanStatus", "scans/{scanId}", ["GET"], "function"],
    ["listImages", "images", ["GET"], "function"],
    ["imageReport", "images/{*path}", ["GET"], "function"],
    ["gate", "gate", ["GET"], "function"],
    ["health", "health", ["GET"], "anonymous"],
  ])("HTTP %s: %s %j, auth %s", (name, route, methods, authLevel) => {
    expect(byName(name)).toMatchObject({ route, methods, authLevel });
  });

  it("registers exactly the HTTP routes above", () => {
    expect(byKind("http")).toHaveLength(11);
  });

  it.each([
    ["stageResolve", "scan-requests"],
    ["stageLayerAnalysis", "layer-analysis"],
    ["stageMatching", "matching"],
    ["stageVerdict", "verdict"],
    ["stageTracking", "tracking"],
  ])("Service Bus %s listens on %s over the identity-based connection", (name, queueName) => {
    expect(byName(name)).toMatchObject({ queueName, connection: "ServiceBusConnection" });
  });

  it("has one Service Bus trigger per stage queue and none for queues without a stage", () => {
    expect(
      byKind("serviceBusQueue")
        .map((c) => c.options.queueName)
        .sort(),
    ).toEqual(["layer-analysis", "matching", "scan-requests", "tracking", "verdict"]);
  });

  it("registers the Event Grid trigger for ImagePushed", () => {
    expect(byKind("eventGrid").map((c) => c.name)).toEqual(["eventGridImagePushed"]);
  });

  it.each([
    ["rescanTimer", "0 15 * * * *"],
    ["dbRefreshTimer", "0 0 */6 * * *"],
  ])("timer %s runs on %s (six-field NCRONTAB)", (name, schedule) => {
    const options = byName(name);
    expect(options).toMatchObject({ schedule });
    expect(String(options.schedule).split(" ")).toHaveLength(6);
  });

  it("builds nothing Azure at registration time: the runtime is composed on first invocation", () => {
    expect(credentials.constructed).toBe(0);
  });
});
