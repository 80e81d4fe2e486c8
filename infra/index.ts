// The Pulumi program (Pulumi.yaml `main`): reads the stack's configuration and deploys portcullis.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as pulumi from "@pulumi/pulumi";
import { SECRET_SETTINGS, SETTING_NAMES, type SettingName } from "../shared/composition/settings.js";
import { DEFAULT_PACKAGE_PATH } from "./functions-package.js";
import { portcullisStack } from "./portcullis-stack.js";
import { StackConfigSchema } from "./stack-config.js";
import { ScanError } from "../shared/model/errors.js";

const cfg = new pulumi.Config("portcullis");
const config = StackConfigSchema.parse({
  location: cfg.require("location"),
  registries: cfg.getObject("registries") ?? [],
  policyFile: cfg.get("policyFile"),
  retention: cfg.getObject("retention") ?? {},
  functions: cfg.getObject("functions") ?? {},
  serviceBusSku: cfg.get("serviceBusSku"),
});

// App settings are stack keys named as the code names them: `portcullis:PORTCULLIS_RESCAN_AFTER_HOURS`.
const secretNames: readonly string[] = SECRET_SETTINGS;
const configured: Partial<Record<SettingName, string>> = {};
const secrets: Partial<Record<SettingName, pulumi.Output<string>>> = {};
for (const name of SETTING_NAMES) {
  if (secretNames.includes(name)) {
    const value = cfg.getSecret(name);
    if (value) secrets[name] = value;
  } else {
    const value = cfg.get(name);
    if (value !== undefined) configured[name] = value;
  }
}
// A typo in a setting's key would otherwise be silently ignored.
const project = pulumi.getProject();
for (const key of Object.keys(pulumi.runtime.allConfig())) {
  const name = key.startsWith(`${project}:`) ? key.slice(project.length + 1) : undefined;
  if (
    name &&
    /^(PORTCULLIS_|AzureWebJobs|ServiceBus)/.test(name) &&
    !(SETTING_NAMES as string[]).includes(name)
  )
    throw new ScanError("invalid-settings", `stack key ${key} names no app setting the code reads`);
}

const packagePath = process.env.PORTCULLIS_FUNCTIONS_ZIP ?? fileURLToPath(DEFAULT_PACKAGE_PATH);
let sha256: string;
try {
  sha256 = createHash("sha256").update(readFileSync(packagePath)).digest("hex");
} catch {
  throw new ScanError(
    "deploy-not-ready",
    `no functions package at ${packagePath}: run \`npm run deploy\` (or \`npm run package\`) first`,
  );
}

const out = portcullisStack({ config, configured, secrets, functionsPackage: { path: packagePath, sha256 } });
export const resourceGroupName = out.resourceGroupName;
export const functionAppName = out.functionAppName;
export const hookUrls = out.hookUrls;
export const gateUrl = out.gateUrl;
export const functionKeyCommand = out.functionKeyCommand;
export const watchedRegistries = out.watchedRegistries;
