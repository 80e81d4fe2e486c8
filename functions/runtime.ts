import { DefaultAzureCredential } from "@azure/identity";
import {
  type AzurePipeline,
  createAzurePipeline,
  storageEndpoints,
} from "../shared/composition/azure-pipeline.js";
import { readSettings } from "../shared/composition/settings.js";

let pipeline: Promise<AzurePipeline> | undefined;

/**
 * The Functions app's composition root, built once per worker on first use (registration imports
 * nothing heavy): app settings → stores, bus and registry access with the app's managed identity.
 */
export function runtime(): Promise<AzurePipeline> {
  pipeline ??= build().catch((err: unknown) => {
    pipeline = undefined; // a transient failure (identity endpoint down) must not stick
    throw err;
  });
  return pipeline;
}

async function build(): Promise<AzurePipeline> {
  const settings = readSettings();
  const identityBased = !("connectionString" in storageEndpoints(settings)) || !settings.ServiceBusConnection;
  // Only here, in the deployed app: DefaultAzureCredential probes the managed-identity endpoint.
  const credential = identityBased
    ? new DefaultAzureCredential(
        settings.PORTCULLIS_MANAGED_IDENTITY_CLIENT_ID
          ? { managedIdentityClientId: settings.PORTCULLIS_MANAGED_IDENTITY_CLIENT_ID }
          : {},
      )
    : undefined;
  return createAzurePipeline(settings, credential);
}
