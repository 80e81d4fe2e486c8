import { beforeAll, describe, expect, it, vi } from "vitest";
import { EVENT_GRID_FUNCTION } from "../../functions/event-grid-trigger.js";
import { SERVICE_BUS_CONNECTION } from "../../functions/queue-trigger.js";
import { ROUTE_LIST } from "../../shared/http/routes.js";
import { QUEUE_NAMES } from "../../shared/model/messages.js";
import { JOB_NAMES, JOB_SCHEDULES, ncrontab } from "../../shared/stages/jobs/schedules.js";
import { STAGE_QUEUES, STAGES } from "../../shared/stages/stage-queues.js";

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

  it.each(ROUTE_LIST.map((r) => [r.name, r]))(
    "registers HTTP %s with the route table's template, methods and auth level",
    (name, route) => {
      expect(byName(name)).toMatchObject({
        route: route.route,
        methods: [...route.methods],
        authLevel: route.authLevel,
      });
    },
  );

  it("registers exactly the routes of the route table", () => {
    expect(byKind("http").map((c) => c.name)).toEqual(ROUTE_LIST.map((r) => r.name));
  });

  it.each(STAGE_QUEUES.map((queue) => [STAGES[queue].functionName, queue]))(
    "Service Bus %s listens on %s over the identity-based connection",
    (name, queueName) => {
      expect(byName(name)).toMatchObject({ queueName, connection: SERVICE_BUS_CONNECTION });
    },
  );

  it("has one Service Bus trigger per stage queue and none for queues without a stage", () => {
    const listened = byKind("serviceBusQueue").map((c) => c.options.queueName);
    expect([...listened].sort()).toEqual([...STAGE_QUEUES].sort());
    for (const queue of QUEUE_NAMES.filter((q) => !(STAGE_QUEUES as readonly string[]).includes(q)))
      expect(listened).not.toContain(queue);
  });

  it("registers the Event Grid trigger for ImagePushed", () => {
    expect(byKind("eventGrid").map((c) => c.name)).toEqual([EVENT_GRID_FUNCTION]);
  });

  it.each(JOB_NAMES.map((job) => [JOB_SCHEDULES[job].functionName, job]))(
    "timer %s runs job %s on its shared schedule (six-field NCRONTAB)",
    (name, job) => {
      const options = byName(name);
      expect(options).toMatchObject({ schedule: ncrontab(JOB_SCHEDULES[job].cadence) });
      expect(String(options.schedule).split(" ")).toHaveLength(6);
    },
  );

  it("registers exactly the timer jobs of the schedule list", () => {
    expect(byKind("timer").map((c) => c.name)).toEqual(JOB_NAMES.map((j) => JOB_SCHEDULES[j].functionName));
  });

  it.each([
    [{ everyHours: 1, minute: 15 }, "0 15 * * * *"],
    [{ everyHours: 6, minute: 0 }, "0 0 */6 * * *"],
  ])("writes the cadence %j as the NCRONTAB %s", (cadence, schedule) => {
    expect(ncrontab(cadence)).toBe(schedule);
  });

  it("builds nothing Azure at registration time: the runtime is composed on first invocation", () => {
    expect(credentials.constructed).toBe(0);
  });
});
