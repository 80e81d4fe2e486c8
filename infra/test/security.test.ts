import { beforeAll, describe, expect, it } from "vitest";
import { QUEUE_NAMES } from "../../shared/model/messages.js";
import { portcullisStack } from "../portcullis-stack.js";
import { ROLES } from "../roles.js";
import { ofType, type Registered, ROLE_ID, runWithMocks } from "./mocks.js";
import { acr, stackInput } from "./stack-input.js";

let resources: Registered[];
const one = (type: string) => {
  const found = ofType(resources, `azure-native:${type}`);
  expect(found).toHaveLength(1);
  return found[0]!;
};
const identityPrincipal = (name: string) => `principal-of-${name}`;

beforeAll(async () => {
  ({ resources } = await runWithMocks(
    () =>
      portcullisStack(
        stackInput({ registries: [acr("prod")], secrets: { PORTCULLIS_HOOK_TOKEN: "s3cret-token" } }),
      ),
    "security",
  ));
});

describe("no key-based access anywhere", () => {
  it("storage: shared key off, TLS 1.2, no anonymous blob access, soft delete on", () => {
    const account = one("storage:StorageAccount").inputs;
    expect(account.allowSharedKeyAccess).toBe(false);
    expect(account.defaultToOAuthAuthentication).toBe(true);
    expect(account.minimumTlsVersion).toBe("TLS1_2");
    expect(account.allowBlobPublicAccess).toBe(false);
    const blobService = one("storage:BlobServiceProperties").inputs;
    expect(blobService.deleteRetentionPolicy).toMatchObject({ enabled: true });
    expect(blobService.containerDeleteRetentionPolicy).toMatchObject({ enabled: true });
    for (const container of ofType(resources, "azure-native:storage:BlobContainer"))
      expect(container.inputs.publicAccess).toBe("None");
  });

  it("Service Bus, Application Insights and Log Analytics refuse local (key) auth", () => {
    expect(one("servicebus:Namespace").inputs.disableLocalAuth).toBe(true);
    expect(one("applicationinsights:Component").inputs.disableLocalAuth).toBe(true);
    expect(one("operationalinsights:Workspace").inputs.features.disableLocalAuth).toBe(true);
  });

  it("the app settings hold no connection string, key or secret value", () => {
    const app = one("web:WebApp").inputs;
    const settings = Object.fromEntries(
      (app.siteConfig.appSettings as { name: string; value: string }[]).map((s) => [s.name, s.value]),
    );
    expect(settings).not.toHaveProperty("AzureWebJobsStorage");
    expect(settings).not.toHaveProperty("ServiceBusConnection");
    expect(settings).not.toHaveProperty("APPINSIGHTS_INSTRUMENTATIONKEY");
    for (const [name, value] of Object.entries(settings)) {
      expect(value, name).not.toMatch(/AccountKey=|SharedAccessKey|SharedAccessSignature|sig=/i);
      expect(value, name).not.toContain("s3cret-token");
    }
    // The one connection string is Application Insights', which only identifies the resource:
    // its local auth is off and the app authenticates with its identity.
    expect(settings.APPLICATIONINSIGHTS_AUTHENTICATION_STRING).toBe(
      "ClientId=client-of-app-identity;Authorization=AAD",
    );
    expect(settings.PORTCULLIS_HOOK_TOKEN).toMatch(
      /^@Microsoft\.KeyVault\(SecretUri=https:\/\/.+\.vault\.azure\.net\/secrets\/portcullis-hook-token\/\)$/,
    );
    expect(settings.AzureWebJobsStorage__credential).toBe("managedidentity");
    expect(settings.AzureWebJobsStorage__clientId).toBe("client-of-app-identity");
    expect(settings.ServiceBusConnection__credential).toBe("managedidentity");
    expect(settings.ServiceBusConnection__clientId).toBe("client-of-app-identity");
  });

  it("the app runs as its user-assigned identity only, and publishing takes no basic auth", () => {
    const app = one("web:WebApp").inputs;
    const identityId = ofType(resources, "azure-native:managedidentity:UserAssignedIdentity").find(
      (r) => r.name === "app-identity",
    )!.id;
    expect(app.identity).toEqual({ type: "UserAssigned", userAssignedIdentities: [identityId] });
    expect(app.keyVaultReferenceIdentity).toBe(identityId);
    expect(app.httpsOnly).toBe(true);
    expect(app.functionAppConfig.deployment.storage.authentication).toEqual({
      type: "UserAssignedIdentity",
      userAssignedIdentityResourceId: identityId,
    });
    expect(app.functionAppConfig.runtime).toEqual({ name: "node", version: "22" });
    expect(one("web:AppServicePlan").inputs.sku).toMatchObject({ name: "FC1", tier: "FlexConsumption" });
    expect(one("web:WebAppFtpAllowed").inputs.allow).toBe(false);
    expect(one("web:WebAppScmAllowed").inputs.allow).toBe(false);
  });

  it("Key Vault answers to RBAC only, with no access policies", () => {
    const vault = one("keyvault:Vault").inputs.properties;
    expect(vault.enableRbacAuthorization).toBe(true);
    expect(vault.accessPolicies ?? []).toEqual([]);
    expect(vault.enablePurgeProtection).toBe(true);
  });
});

describe("every role assignment: which role, to whom, on what", () => {
  const assignments = () =>
    ofType(resources, "azure-native:authorization:RoleAssignment").map(
      (r) => r.inputs as Record<string, string>,
    );
  const idOf = (type: string, name?: string) =>
    ofType(resources, `azure-native:${type}`).find((r) => name === undefined || r.inputs.queueName === name)!
      .id;

  it("the app's identity holds exactly the data roles it needs, each at the narrowest scope", () => {
    const app = identityPrincipal("app-identity");
    const expected = [
      { role: ROLES.storageBlobDataOwner, scope: idOf("storage:StorageAccount") },
      { role: ROLES.storageTableDataContributor, scope: idOf("storage:StorageAccount") },
      ...QUEUE_NAMES.flatMap((queue) => [
        { role: ROLES.serviceBusDataSender, scope: idOf("servicebus:Queue", queue) },
        { role: ROLES.serviceBusDataReceiver, scope: idOf("servicebus:Queue", queue) },
      ]),
      { role: ROLES.serviceBusDataOwner, scope: idOf("servicebus:Queue", "matching") },
      { role: ROLES.monitoringMetricsPublisher, scope: idOf("applicationinsights:Component") },
      { role: ROLES.keyVaultSecretsUser, scope: idOf("keyvault:Secret") },
      { role: ROLES.acrPull, scope: acr("prod").resourceId },
    ];
    const actual = assignments()
      .filter((a) => a.principalId === app)
      .map((a) => ({ role: a.roleDefinitionId, scope: a.scope }));
    expect(actual).toEqual(
      expect.arrayContaining(expected.map((e) => ({ role: ROLE_ID(e.role), scope: e.scope }))),
    );
    expect(actual).toHaveLength(expected.length);
  });

  it("no assignment is at a resource group or subscription, and none is an owner or contributor role", () => {
    for (const a of assignments()) {
      expect(a.scope).not.toMatch(/^\/subscriptions\/[^/]+(\/resourceGroups\/[^/]+)?$/);
      expect(a.principalType).toBe("ServicePrincipal");
    }
    const allowed = new Set(Object.values(ROLES).map(ROLE_ID));
    for (const a of assignments()) expect(allowed.has(a.roleDefinitionId ?? "")).toBe(true);
  });

  it("Event Grid's identity may only write to the dead-letter container", () => {
    const events = assignments().filter((a) => a.principalId === identityPrincipal("events-identity"));
    const deadLetter = ofType(resources, "azure-native:storage:BlobContainer").find(
      (c) => c.inputs.containerName === "eventgrid-deadletter",
    )!;
    expect(events).toEqual([
      expect.objectContaining({
        roleDefinitionId: ROLE_ID(ROLES.storageBlobDataContributor),
        scope: deadLetter.id,
      }),
    ]);
  });
});
