import * as pulumi from "@pulumi/pulumi";

/** One resource the program registered, with the inputs it gave (outputs of others resolved). */
export interface Registered {
  type: string;
  name: string;
  id: string;
  // biome-ignore lint/suspicious/noExplicitAny: the inputs are the provider's untyped JSON
  inputs: Record<string, any>;
}

const SUBSCRIPTION = "00000000-0000-0000-0000-00000000c0de";
const TENANT = "00000000-0000-0000-0000-00000000beef";

/** An ARM-shaped id for a mocked resource, so a scope can be matched back to its resource. */
const idOf = (type: string, name: string) => `/mock/${type}/${name}`;

/**
 * Runs a Pulumi program against Pulumi's mock monitor (no engine, no cloud) and returns every
 * resource it registered. Outputs the provider computes are filled with plausible values.
 */
export async function runWithMocks<T>(
  program: () => T,
  stack = "test",
): Promise<{ resources: Registered[]; outputs: pulumi.Unwrap<Awaited<T>> }> {
  const resources: Registered[] = [];
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const id = idOf(args.type, args.name);
        resources.push({ type: args.type, name: args.name, id, inputs: args.inputs });
        const state: Record<string, unknown> = { ...args.inputs, name: args.name };
        if (args.type === "azure-native:managedidentity:UserAssignedIdentity") {
          state.principalId = `principal-of-${args.name}`;
          state.clientId = `client-of-${args.name}`;
        }
        if (args.type === "azure-native:storage:StorageAccount")
          state.primaryEndpoints = { blob: `https://${args.name}.blob.core.windows.net/` };
        if (args.type === "azure-native:keyvault:Vault")
          state.properties = { ...args.inputs.properties, vaultUri: `https://${args.name}.vault.azure.net/` };
        if (args.type === "azure-native:applicationinsights:Component")
          state.connectionString = `InstrumentationKey=mock;IngestionEndpoint=https://ingest.mock/`;
        if (args.type === "azure-native:web:WebApp") state.defaultHostName = `${args.name}.azurewebsites.net`;
        return { id, state };
      },
      call(args) {
        if (args.token === "azure-native:authorization:getClientConfig")
          return {
            subscriptionId: SUBSCRIPTION,
            tenantId: TENANT,
            clientId: "deployer",
            objectId: "deployer",
          };
        throw new Error(`unexpected invoke ${args.token}`);
      },
    },
    "portcullis",
    stack,
    false,
  );
  try {
    const outputs = await resolved(await program());
    return { resources, outputs: outputs as pulumi.Unwrap<Awaited<T>> };
  } finally {
    // Every registration and apply has reached the mock monitor once Pulumi's RPC queue drains.
    await pulumi.runtime.disconnect();
  }
}

export const ofType = (resources: Registered[], type: string) => resources.filter((r) => r.type === type);

/** Resolves an Output (or a structure holding Outputs) to its value. */
export function resolved<T>(output: pulumi.Input<T>): Promise<pulumi.Unwrap<T>> {
  return new Promise((resolve) => pulumi.output(output).apply((v) => resolve(v as pulumi.Unwrap<T>)));
}

export const ROLE_ID = (guid: string) =>
  `/subscriptions/${SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/${guid}`;
