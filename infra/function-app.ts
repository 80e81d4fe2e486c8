import * as command from "@pulumi/command";
import type * as managedidentity from "@pulumi/azure-native/managedidentity/index.js";
import * as web from "@pulumi/azure-native/web/index.js";
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "./stack-config.js";

/** The built package `npm run deploy` publishes (infra/functions-package.ts). */
export interface FunctionsPackage {
  path: string;
  /** its SHA-256: a new package is a new publish */
  sha256: string;
}

/** The Functions runtime the app runs on (Flex Consumption's `functionAppConfig.runtime`). */
export const NODE_RUNTIME = { name: "node", version: "22" } as const;

/**
 * A Flex Consumption plan (scales to zero, billed per execution) and a Linux Function App on
 * Node 22 that runs as the user-assigned identity alone: the deployment package is read with it,
 * Key Vault references resolve with it, and FTP/SCM basic-auth publishing is off.
 */
export function functionApp(args: {
  resourceGroupName: pulumi.Input<string>;
  config: StackConfig;
  identity: managedidentity.UserAssignedIdentity;
  deploymentContainerUrl: pulumi.Input<string>;
  settings: Record<string, pulumi.Input<string>>;
  dependsOn: pulumi.Input<pulumi.Resource>[];
}): { plan: web.AppServicePlan; app: web.WebApp } {
  const { resourceGroupName, config, identity } = args;
  const plan = new web.AppServicePlan("plan", {
    resourceGroupName,
    location: config.location,
    kind: "functionapp",
    reserved: true, // Linux
    sku: { name: "FC1", tier: "FlexConsumption" },
  });
  const app = new web.WebApp(
    "app",
    {
      resourceGroupName,
      location: config.location,
      kind: "functionapp,linux",
      serverFarmId: plan.id,
      httpsOnly: true,
      identity: { type: web.ManagedServiceIdentityType.UserAssigned, userAssignedIdentities: [identity.id] },
      keyVaultReferenceIdentity: identity.id,
      functionAppConfig: {
        deployment: {
          storage: {
            type: "blobContainer",
            value: args.deploymentContainerUrl,
            authentication: { type: "UserAssignedIdentity", userAssignedIdentityResourceId: identity.id },
          },
        },
        runtime: NODE_RUNTIME,
        scaleAndConcurrency: {
          instanceMemoryMB: config.functions.instanceMemoryMB,
          maximumInstanceCount: config.functions.maximumInstanceCount,
        },
      },
      siteConfig: {
        minTlsVersion: "1.2",
        ftpsState: "Disabled",
        http20Enabled: true,
        appSettings: Object.entries(args.settings).map(([name, value]) => ({ name, value })),
      },
    },
    // The identity's roles first: the host reads its package and storage the moment it starts.
    { dependsOn: args.dependsOn },
  );
  // Publishing signs in with Entra ID; the basic-auth publishing credentials stay off.
  new web.WebAppFtpAllowed("app-no-ftp-basic-auth", { resourceGroupName, name: app.name, allow: false });
  new web.WebAppScmAllowed("app-no-scm-basic-auth", { resourceGroupName, name: app.name, allow: false });
  return { plan, app };
}

/**
 * Publishes the package with the deployer's own Azure CLI sign-in (OneDeploy to the deployment
 * container through the app's identity), again whenever the package changes. Event Grid
 * subscriptions depend on this: an Azure Function destination must exist when it is subscribed.
 */
export function publishPackage(
  pkg: FunctionsPackage,
  resourceGroupName: pulumi.Input<string>,
  app: web.WebApp,
  dependsOn: pulumi.Input<pulumi.Resource>[],
): command.local.Command {
  return new command.local.Command(
    "publish-functions",
    {
      create: pulumi.interpolate`az functionapp deployment source config-zip --resource-group ${resourceGroupName} --name ${app.name} --src "${pkg.path}"`,
      triggers: [pkg.sha256],
    },
    { dependsOn: [app, ...dependsOn] },
  );
}
