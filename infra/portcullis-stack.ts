import * as authorization from "@pulumi/azure-native/authorization/index.js";
import * as managedidentity from "@pulumi/azure-native/managedidentity/index.js";
import * as resources from "@pulumi/azure-native/resources/index.js";
import * as pulumi from "@pulumi/pulumi";
import type { SettingName } from "../shared/composition/settings.js";
import { ROUTES } from "../shared/http/routes.js";
import { QUEUE_NAMES } from "../shared/model/messages.js";
import { appSettings, checkConfigured } from "./app-settings.js";
import { registryEvents } from "./event-grid.js";
import { type FunctionsPackage, functionApp, publishPackage } from "./function-app.js";
import { secretVault } from "./key-vault.js";
import { monitoring } from "./monitoring.js";
import { grant } from "./roles.js";
import { pipelineBus } from "./service-bus.js";
import type { StackConfig } from "./stack-config.js";
import { EVENT_DEAD_LETTER_CONTAINER, pipelineStorage } from "./storage.js";

export interface StackInput {
  config: StackConfig;
  /** plain app settings from the stack (`portcullis:<SETTING_NAME>`) */
  configured: Partial<Record<SettingName, string>>;
  /** secret app settings from the stack (`pulumi config set --secret portcullis:<SETTING_NAME>`) */
  secrets: Partial<Record<SettingName, pulumi.Input<string>>>;
  functionsPackage: FunctionsPackage;
}

/** Where the app's code lives on a Functions host (a packaged policy file sits at its root). */
export const APP_ROOT = "/home/site/wwwroot";

/** The whole pipeline: storage, bus, vault, monitoring, the Function App, its roles and the registry events. */
export function portcullisStack(input: StackInput) {
  const { config } = input;
  const configured = { ...input.configured };
  if (config.policyFile && !configured.PORTCULLIS_POLICY)
    configured.PORTCULLIS_POLICY = `${APP_ROOT}/portcullis.yaml`;
  // What the code will read: the container's name and the delivery limit come from the same settings.
  const effective = checkConfigured(configured, Object.keys(input.secrets));

  const client = authorization.getClientConfigOutput();
  const group = new resources.ResourceGroup("portcullis", { location: config.location });
  const resourceGroupName = group.name;

  const store = pipelineStorage(resourceGroupName, config, effective.PORTCULLIS_BLOB_CONTAINER);
  const bus = pipelineBus(resourceGroupName, config, effective.PORTCULLIS_MAX_DELIVERIES);
  const { insights } = monitoring(resourceGroupName, config);
  const vault = secretVault(resourceGroupName, config, client.tenantId, input.secrets);

  const identity = new managedidentity.UserAssignedIdentity("app-identity", {
    resourceGroupName,
    location: config.location,
  });
  const app = { principalId: identity.principalId, subscriptionId: client.subscriptionId };
  const appRoles = [
    // The host keeps keys and timer locks in blobs; the pipeline writes reports and layer reports.
    grant("app-blob", app, "storageBlobDataOwner", store.account.id),
    // The code creates its tables on first use, so the role is on the account, not each table.
    grant("app-table", app, "storageTableDataContributor", store.account.id),
    // No Storage Queue role: in Azure the stages run on Service Bus and no function has a blob or
    // queue trigger (storage queues are the local host's bus only).
    // Each stage sends to the next queue and receives its own: both, on each queue, nothing namespace-wide.
    ...bus.queues.flatMap((queue, i) => [
      grant(`app-send-${i}`, app, "serviceBusDataSender", queue.id),
      grant(`app-receive-${i}`, app, "serviceBusDataReceiver", queue.id),
    ]),
    // Rescans hold back while matching is deep: its runtime properties need Manage, on that queue alone.
    ...bus.queues
      .filter((_queue, i) => QUEUE_NAMES[i] === "matching")
      .map((queue) => grant("app-depth-matching", app, "serviceBusDataOwner", queue.id)),
    grant("app-telemetry", app, "monitoringMetricsPublisher", insights.id),
    // Each secret alone, not the vault: the identity can read what it is given and nothing else.
    ...vault.secrets.map(({ secret }, i) => grant(`app-secret-${i}`, app, "keyVaultSecretsUser", secret.id)),
    ...config.registries.map((registry) =>
      grant(`app-acrpull-${registry.name}`, app, "acrPull", registry.resourceId),
    ),
  ];

  const settings = appSettings({
    configured,
    secretReferences: Object.fromEntries(vault.secrets.map((s) => [s.setting, s.reference])),
    storageAccountName: store.account.name,
    serviceBusNamespace: bus.namespace.name,
    identityClientId: identity.clientId,
    insightsConnectionString: insights.connectionString,
  });
  const { app: site } = functionApp({
    resourceGroupName,
    config,
    identity,
    deploymentContainerUrl: pulumi.interpolate`${store.account.primaryEndpoints.blob}${store.deploymentContainer.name}`,
    settings,
    dependsOn: [...appRoles, store.deploymentContainer],
  });
  const published = publishPackage(input.functionsPackage, resourceGroupName, site, appRoles);

  // Event Grid writes undeliverable events as its own identity, to the dead-letter container only.
  const eventsIdentity =
    config.registries.length > 0
      ? new managedidentity.UserAssignedIdentity("events-identity", {
          resourceGroupName,
          location: config.location,
        })
      : undefined;
  const deadLetterRole = eventsIdentity
    ? grant(
        "events-deadletter",
        { principalId: eventsIdentity.principalId, subscriptionId: client.subscriptionId },
        "storageBlobDataContributor",
        store.deadLetterContainer.id,
      )
    : undefined;
  const subscriptions = config.registries.map((registry) =>
    registryEvents({
      resourceGroupName,
      config,
      registry,
      functionAppId: site.id,
      deadLetter: { storageAccountId: store.account.id, containerName: EVENT_DEAD_LETTER_CONTAINER },
      identityId: eventsIdentity!.id,
      after: [published, deadLetterRole!],
    }),
  );

  const base = pulumi.interpolate`https://${site.defaultHostName}/api`;
  const url = (route: { route: string }) => pulumi.interpolate`${base}/${route.route}`;
  return {
    resourceGroupName,
    functionAppName: site.name,
    hookUrls: {
      distribution: url(ROUTES.hookDistribution),
      harbor: url(ROUTES.hookHarbor),
      github: url(ROUTES.hookGitHub),
      acrWebhook: url(ROUTES.hookAcr),
    },
    gateUrl: url(ROUTES.gate),
    functionKeyCommand: pulumi.interpolate`az functionapp keys list --resource-group ${resourceGroupName} --name ${site.name} --query functionKeys.default --output tsv`,
    watchedRegistries: subscriptions.map((s) => s.subscription.name),
  };
}
