import { describe, expect, it } from "vitest";
import { blobKeys, TABLES } from "../../shared/stages/tables.js";
import { portcullisStack } from "../portcullis-stack.js";
import { StackConfigSchema } from "../stack-config.js";
import { ofType, runWithMocks } from "./mocks.js";
import { stackInput } from "./stack-input.js";

describe("storage the pipeline needs", () => {
  it("one table per table the code names, and the pipeline, deployment and dead-letter containers", async () => {
    const { resources } = await runWithMocks(
      () => portcullisStack(stackInput({ configured: { PORTCULLIS_BLOB_CONTAINER: "scans-prod" } })),
      "tables",
    );
    const tables = ofType(resources, "azure-native:storage:Table").map((t) => t.inputs.tableName);
    expect(tables.sort()).toEqual(Object.values(TABLES).sort());
    const containers = ofType(resources, "azure-native:storage:BlobContainer").map(
      (c) => c.inputs.containerName,
    );
    expect(containers.sort()).toEqual(["eventgrid-deadletter", "functions-deployment", "scans-prod"]);
  });

  it("the lifecycle rules age out report, layer report and match blobs under the keys the stages write", async () => {
    const input = stackInput({});
    input.config = StackConfigSchema.parse({
      location: "westeurope",
      retention: { reportDays: 400, layerReportDays: 60, matchesDays: 14 },
    });
    const { resources } = await runWithMocks(() => portcullisStack(input), "lifecycle");
    const rules = ofType(resources, "azure-native:storage:ManagementPolicy")[0]!.inputs.policy.rules as {
      name: string;
      enabled: boolean;
      definition: {
        filters: { prefixMatch: string[] };
        actions: { baseBlob: { delete: { daysAfterModificationGreaterThan: number } } };
      };
    }[];
    const ruleFor = (key: string) =>
      rules.find((r) => r.definition.filters.prefixMatch.some((p) => `portcullis/${key}`.startsWith(p)));
    const days = (key: string) =>
      ruleFor(key)?.definition.actions.baseBlob.delete.daysAfterModificationGreaterThan;
    const digest = `sha256:${"a".repeat(64)}`;
    expect(days(blobKeys.report("registry.example", "team/app", digest))).toBe(400);
    expect(days(blobKeys.inventory(digest, "v1"))).toBe(60);
    expect(days(blobKeys.matches("0".repeat(32), "2026-12-05"))).toBe(14);
    // The vulnerability DB and anything else in the container is never aged out.
    expect(ruleFor("vulndb/current.json")).toBeUndefined();
    for (const r of rules) expect(r.enabled).toBe(true);
  });
});
