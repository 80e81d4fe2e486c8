import type { HttpDeps } from "../http/http-deps.js";
import type { TokenCredential } from "@azure/core-auth";
import { BlobServiceClient } from "@azure/storage-blob";
import { ScanError } from "../model/errors.js";
import { AzureBlobStore } from "../ports/azure-blob-store.js";
import { AzureTableStore } from "../ports/azure-table-store.js";
import type { BusSender } from "../ports/bus.js";
import { ServiceBusBusSender } from "../ports/service-bus.js";
import type { PipelineDeps } from "../stages/pipeline-deps.js";
import { buildPipelineDeps } from "./build-pipeline-deps.js";
import { registryAllowListFromSettings } from "./registry-allow-list-settings.js";
import { httpDepsFromSettings } from "./hook-auth-config.js";
import { loadPolicyInputs } from "./load-policy-inputs.js";
import { trackingFromSettings } from "../tracking/tracking-from-settings.js";
import { hostAnalyzers } from "../analysis/registry.js";
import { registryAccess } from "./registry-access.js";
import { type JobRunners, jobRunners } from "./timer-jobs.js";
import { dbUpdateOptions, type Settings } from "./settings.js";
import { escapeControlCharacters } from "../model/log-text.js";

export interface AzurePipeline {
  settings: Settings;
  pipeline: PipelineDeps;
  http: HttpDeps;
  jobs: JobRunners;
  close(): Promise<void>;
}

/**
 * The production composition root (Functions app): Table and Blob Storage through
 * `AzureWebJobsStorage__accountName` (or its service URIs) and Service Bus through
 * `ServiceBusConnection__fullyQualifiedNamespace`, all with the app's managed identity.
 * Connection strings are honoured for local Functions development against Azurite.
 * `credential` is created by the caller (functions/runtime.ts): nothing here probes the network.
 */
export async function createAzurePipeline(
  settings: Settings,
  credential: TokenCredential | undefined,
): Promise<AzurePipeline> {
  const storage = storageEndpoints(settings);
  const needCredential = !("connectionString" in storage) || !settings.ServiceBusConnection;
  if (needCredential && !credential)
    throw new ScanError("invalid-settings", "identity-based connections need an Azure credential");

  const tables =
    "connectionString" in storage
      ? new AzureTableStore({ connectionString: storage.connectionString })
      : new AzureTableStore({ accountUrl: storage.tableUrl, credential: credential! });
  const blobService =
    "connectionString" in storage
      ? BlobServiceClient.fromConnectionString(storage.connectionString)
      : new BlobServiceClient(storage.blobUrl, credential!);
  const blobs = new AzureBlobStore(blobService.getContainerClient(settings.PORTCULLIS_BLOB_CONTAINER));
  const bus: BusSender = settings.ServiceBusConnection
    ? ServiceBusBusSender.fromConnectionString(settings.ServiceBusConnection)
    : ServiceBusBusSender.fromNamespace(
        requireSetting(
          settings.ServiceBusConnection__fullyQualifiedNamespace,
          "ServiceBusConnection__fullyQualifiedNamespace",
        ),
        credential!,
      );

  const { policy, vex } = await loadPolicyInputs(settings.PORTCULLIS_POLICY);
  // one list for the hooks, the resolve stage and the token realms
  const allowList = registryAllowListFromSettings(settings, "azure");
  // names in messages come from strangers: no control character reaches the log
  const log = (message: string) => console.log(escapeControlCharacters(message));
  const tracking = trackingFromSettings(settings, policy.tracking, log);
  // clamd's signature version joins the layer-cache key before any layer is keyed
  const analyzers = await hostAnalyzers(policy.content?.yaraRules ?? [], log);
  const pipeline = buildPipelineDeps({
    analyzers,
    tables,
    blobs,
    bus,
    dbStore: blobs,
    registry: await registryAccess(settings, allowList, credential),
    registryAllowList: allowList,
    policy,
    vex,
    db: dbUpdateOptions(settings),
    log,
    ...(tracking ? { tracking } : {}),
  });
  const http = httpDepsFromSettings(settings, { tables, blobs, bus, now: () => new Date(), log }, allowList);
  http.rescanBatchSize = settings.PORTCULLIS_RESCAN_BATCH_SIZE;
  http.rescanMaxQueueDepth = settings.PORTCULLIS_RESCAN_MAX_QUEUE_DEPTH;
  if (tracking) http.tracking = tracking;
  const jobs = jobRunners(pipeline, settings, { store: blobs, options: dbUpdateOptions(settings) });
  http.dbRefresh = jobs.dbRefresh;
  return { settings, pipeline, http, jobs, close: () => bus.close() };
}

type StorageEndpoints = { connectionString: string } | { tableUrl: string; blobUrl: string };

/** `AzureWebJobsStorage__accountName` gives the public-cloud URLs; the `…ServiceUri` settings override them. */
export function storageEndpoints(settings: Settings): StorageEndpoints {
  const account = settings.AzureWebJobsStorage__accountName;
  if (account || settings.AzureWebJobsStorage__tableServiceUri) {
    return {
      tableUrl: settings.AzureWebJobsStorage__tableServiceUri ?? `https://${account}.table.core.windows.net`,
      blobUrl: settings.AzureWebJobsStorage__blobServiceUri ?? `https://${account}.blob.core.windows.net`,
    };
  }
  return {
    connectionString: requireSetting(settings.AzureWebJobsStorage, "AzureWebJobsStorage__accountName"),
  };
}

function requireSetting(value: string | undefined, name: string): string {
  if (!value) throw new ScanError("invalid-settings", `app setting ${name} is required`);
  return value;
}
