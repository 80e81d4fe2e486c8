import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { SECRET_SETTINGS, SETTING_NAMES } from "../../shared/composition/settings.js";
import { checkConfigured } from "../app-settings.js";
import { StackConfigSchema } from "../stack-config.js";

const sample = readFileSync(new URL("../Pulumi.sample.yaml", import.meta.url), "utf8");
const config = (parse(sample) as { config: Record<string, unknown> }).config;
const own = Object.fromEntries(
  Object.entries(config)
    .filter(([key]) => key.startsWith("portcullis:"))
    .map(([key, value]) => [key.slice("portcullis:".length), value]),
);

describe("Pulumi.sample.yaml", () => {
  it("is a stack index.ts accepts: its structured keys parse, its settings are the code's", () => {
    const settings = Object.fromEntries(
      Object.entries(own).filter(([key]) => (SETTING_NAMES as string[]).includes(key)),
    );
    const structured = Object.fromEntries(Object.entries(own).filter(([key]) => !(key in settings)));
    expect(Object.keys(structured).sort()).toEqual(
      Object.keys(StackConfigSchema.shape)
        .filter((k) => k in structured)
        .sort(),
    );
    expect(() => StackConfigSchema.parse(structured)).not.toThrow();
    expect(() => checkConfigured(settings as Record<string, string>)).not.toThrow();
  });

  it("tells how to set every secret setting, and holds no secret value", () => {
    for (const name of SECRET_SETTINGS) {
      expect(sample).toContain(`pulumi config set --secret ${name}`);
      expect(own).not.toHaveProperty(name);
    }
  });
});
