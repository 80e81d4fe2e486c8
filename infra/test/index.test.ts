import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ROUTES } from "../../shared/http/routes.js";
import { ofType, runWithMocks } from "./mocks.js";

const zip = join(mkdtempSync(join(tmpdir(), "portcullis-zip-")), "functions.zip");
writeFileSync(zip, "not really a zip: only its hash is read");

/** Runs index.ts, the program `pulumi up` runs, with a stack's configuration. */
async function runProgram(config: Record<string, string>, secretKeys: string[] = []) {
  vi.resetModules();
  vi.stubEnv("PORTCULLIS_FUNCTIONS_ZIP", zip);
  return runWithMocks(async () => {
    pulumi.runtime.setAllConfig(config, secretKeys);
    const program = await import("../index.js");
    return {
      hookUrls: program.hookUrls,
      gateUrl: program.gateUrl,
      functionKeyCommand: program.functionKeyCommand,
      resourceGroupName: program.resourceGroupName,
    };
  }, "program");
}

afterEach(() => vi.unstubAllEnvs());

describe("index.ts reads the stack and outputs what an operator needs", () => {
  it("hook URLs for Distribution, Harbor and GitHub, the gate URL and how to get the function key", async () => {
    const { outputs, resources } = await runProgram(
      {
        "portcullis:location": "westeurope",
        "portcullis:registries": JSON.stringify([
          {
            name: "prod",
            resourceId:
              "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/r/providers/Microsoft.ContainerRegistry/registries/prodacr",
          },
        ]),
        "portcullis:PORTCULLIS_RESCAN_AFTER_HOURS": "6",
        "portcullis:PORTCULLIS_HOOK_TOKEN": "from-the-stack",
      },
      ["portcullis:PORTCULLIS_HOOK_TOKEN"],
    );
    const host = "https://app.azurewebsites.net/api";
    expect(outputs.hookUrls).toEqual({
      distribution: `${host}/${ROUTES.hookDistribution.route}`,
      harbor: `${host}/${ROUTES.hookHarbor.route}`,
      github: `${host}/${ROUTES.hookGitHub.route}`,
      acrWebhook: `${host}/${ROUTES.hookAcr.route}`,
    });
    expect(outputs.gateUrl).toBe(`${host}/${ROUTES.gate.route}`);
    expect(outputs.functionKeyCommand).toMatch(/^az functionapp keys list .*--name app /);
    const settings = ofType(resources, "azure-native:web:WebApp")[0]!.inputs.siteConfig.appSettings as {
      name: string;
      value: string;
    }[];
    expect(settings).toContainEqual({ name: "PORTCULLIS_RESCAN_AFTER_HOURS", value: "6" });
    expect(settings.find((s) => s.name === "PORTCULLIS_HOOK_TOKEN")?.value).toMatch(
      /^@Microsoft\.KeyVault\(/,
    );
    expect(ofType(resources, "azure-native:eventgrid:SystemTopicEventSubscription")).toHaveLength(1);
    // The package's hash triggers a new publish when the code changes.
    const publish = ofType(resources, "command:local:Command")[0]!;
    expect(publish.inputs.triggers).toHaveLength(1);
    expect(publish.inputs.create).toContain(zip);
  });

  it("a stack key that names no app setting stops the deployment", async () => {
    await expect(
      runProgram({ "portcullis:location": "westeurope", "portcullis:PORTCULLIS_RESCAN_AFTER_HOUR": "6" }),
    ).rejects.toThrow(/names no app setting/);
  });
});
