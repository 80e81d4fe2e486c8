import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { SERVICE_BUS_CONNECTION as TRIGGER_CONNECTION } from "../../functions/queue-trigger.js";
import {
  LOCAL_ONLY_SETTINGS,
  readSettings,
  SECRET_SETTINGS,
  SETTING_NAMES,
  SettingsSchema,
} from "../../shared/composition/settings.js";
import { checkConfigured, defaultOf, RESOURCE_SETTINGS, SERVICE_BUS_CONNECTION } from "../app-settings.js";
import { portcullisStack } from "../portcullis-stack.js";
import { ofType, type Registered, runWithMocks } from "./mocks.js";
import { stackInput } from "./stack-input.js";

const root = fileURLToPath(new URL("../../", import.meta.url));

const settingsOf = (resources: Registered[]): Record<string, string> =>
  Object.fromEntries(
    (
      ofType(resources, "azure-native:web:WebApp")[0]!.inputs.siteConfig.appSettings as {
        name: string;
        value: string;
      }[]
    ).map((s) => [s.name, s.value]),
  );

describe("the app settings are generated from the schema the code validates", () => {
  it("every schema setting is filled from a resource, Key Vault, the stack or its default — or deliberately absent", async () => {
    const { resources } = await runWithMocks(
      () =>
        portcullisStack(
          stackInput({
            configured: {
              PORTCULLIS_RESCAN_AFTER_HOURS: "12",
              PORTCULLIS_HOOK_SECRET_HEADER: "X-Portcullis-Secret",
            },
            secrets: { PORTCULLIS_HOOK_SECRET: "header-secret", PORTCULLIS_GITHUB_WEBHOOK_SECRET: "gh" },
          }),
        ),
      "settings",
    );
    const settings = settingsOf(resources);
    for (const name of SETTING_NAMES) {
      if ((LOCAL_ONLY_SETTINGS as readonly string[]).includes(name))
        expect(settings, name).not.toHaveProperty(name);
      else if ((RESOURCE_SETTINGS as readonly string[]).includes(name))
        expect(settings[name], name).toBeTruthy();
      else if ((SECRET_SETTINGS as readonly string[]).includes(name)) {
        const held = name === "PORTCULLIS_HOOK_SECRET" || name === "PORTCULLIS_GITHUB_WEBHOOK_SECRET";
        if (held) expect(settings[name], name).toMatch(/^@Microsoft\.KeyVault\(SecretUri=/);
        else expect(settings, name).not.toHaveProperty(name);
      } else if (name === "PORTCULLIS_RESCAN_AFTER_HOURS") expect(settings[name]).toBe("12");
      else if (name === "PORTCULLIS_HOOK_SECRET_HEADER") expect(settings[name]).toBe("X-Portcullis-Secret");
      else if (defaultOf(name) !== undefined) expect(settings[name], name).toBe(defaultOf(name));
      else expect(settings, name).not.toHaveProperty(name);
    }
    // The code's own startup validation accepts what the deployment gives it.
    const read = readSettings(settings);
    expect(read.ServiceBusConnection__fullyQualifiedNamespace).toMatch(/^[^.]+\.servicebus\.windows\.net$/);
    const container = ofType(resources, "azure-native:storage:BlobContainer").map(
      (c) => c.inputs.containerName,
    );
    expect(container).toContain(read.PORTCULLIS_BLOB_CONTAINER);
    const account = ofType(resources, "azure-native:storage:StorageAccount")[0]!;
    expect(read.AzureWebJobsStorage__accountName).toBe(account.name);
  });

  it("a defaulted setting carries the schema's default, as the code would apply it", () => {
    const defaults = SETTING_NAMES.filter((n) => defaultOf(n) !== undefined);
    expect(defaults.length).toBeGreaterThan(0);
    const parsed = SettingsSchema.parse({}) as Record<string, unknown>;
    for (const name of defaults) expect(String(parsed[name]), name).toBe(defaultOf(name));
  });

  it("the Service Bus connection name is the one the triggers use", async () => {
    expect(SERVICE_BUS_CONNECTION).toBe(TRIGGER_CONNECTION);
    const { resources } = await runWithMocks(() => portcullisStack(stackInput({})), "connection");
    expect(settingsOf(resources)).toHaveProperty(`${TRIGGER_CONNECTION}__fullyQualifiedNamespace`);
  });

  it("the stack cannot set a key-bearing, secret, unknown or invalid setting in plain text", () => {
    expect(() => checkConfigured({ AzureWebJobsStorage: "UseDevelopmentStorage=true" })).toThrow(
      /local development/,
    );
    expect(() => checkConfigured({ PORTCULLIS_HOOK_TOKEN: "t" })).toThrow(/secret/);
    expect(() => checkConfigured({ PORTCULLIS_NOT_A_SETTING: "1" })).toThrow(/unknown app setting/);
    expect(() => checkConfigured({ PORTCULLIS_MAX_DELIVERIES: "0" })).toThrow(/PORTCULLIS_MAX_DELIVERIES/);
    expect(() => checkConfigured({ PORTCULLIS_BLOB_CONTAINER: "Not_A_Container" })).toThrow(/container/);
    // Settings that go together are checked together, the secret half included.
    expect(() => checkConfigured({ PORTCULLIS_HOOK_SECRET_HEADER: "X-S" })).toThrow(/go together/);
    expect(() =>
      checkConfigured({ PORTCULLIS_HOOK_SECRET_HEADER: "X-S" }, ["PORTCULLIS_HOOK_SECRET"]),
    ).not.toThrow();
  });

  it("the deployed code reads no setting the schema does not name", () => {
    // The Functions app runs functions/ and shared/ (not the CLI's or the local host's own options).
    const files = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
      );
    const deployed = [...files(join(root, "functions")), ...files(join(root, "shared"))].filter(
      (f) => !/^shared\/(cli|local)\//.test(relative(root, f)),
    );
    const read = new Set<string>();
    for (const file of deployed)
      for (const m of readFileSync(file, "utf8").matchAll(/\benv(?:\.|\[["'])([A-Za-z][A-Za-z0-9_]*)/g))
        read.add(m[1]!);
    expect(read.has("DOCKER_CONFIG")).toBe(true); // the scan does see direct reads
    // The app's own settings by their prefixes; DOCKER_CONFIG, TERM and the like are the platform's.
    const own = [...read].filter((name) => /^(PORTCULLIS_|AzureWebJobs|ServiceBus)/.test(name));
    const unnamed = own.filter((name) => !(SETTING_NAMES as string[]).includes(name));
    expect(unnamed).toEqual([]);
  });

  it("local.settings.sample.json documents every setting of the schema", () => {
    const sample = JSON.parse(readFileSync(join(root, "local.settings.sample.json"), "utf8")) as {
      Values: Record<string, string>;
    };
    expect(SETTING_NAMES.filter((n) => !(n in sample.Values))).toEqual([]);
  });
});
