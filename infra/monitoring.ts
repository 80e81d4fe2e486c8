import * as applicationinsights from "@pulumi/azure-native/applicationinsights/index.js";
import * as operationalinsights from "@pulumi/azure-native/operationalinsights/index.js";
import type * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "./stack-config.js";

/**
 * Application Insights on a Log Analytics workspace, both with local auth off: telemetry is
 * accepted only with an Entra token (the app's identity, Monitoring Metrics Publisher), so the
 * connection string the app is given identifies the resource but grants nothing.
 */
export function monitoring(
  resourceGroupName: pulumi.Input<string>,
  config: StackConfig,
): { insights: applicationinsights.Component; workspace: operationalinsights.Workspace } {
  const workspace = new operationalinsights.Workspace("logs", {
    resourceGroupName,
    location: config.location,
    sku: { name: "PerGB2018" },
    retentionInDays: 30, // the free retention
    features: { disableLocalAuth: true },
  });
  const insights = new applicationinsights.Component("insights", {
    resourceGroupName,
    location: config.location,
    kind: "web",
    applicationType: "web",
    ingestionMode: "LogAnalytics",
    workspaceResourceId: workspace.id,
    disableLocalAuth: true,
  });
  return { insights, workspace };
}
