import * as storage from "@pulumi/azure-native/storage/index.js";
import type * as inputs from "@pulumi/azure-native/types/input.js";
import type * as pulumi from "@pulumi/pulumi";
import { TABLES } from "../shared/stages/tables.js";
import type { StackConfig } from "./stack-config.js";

/** Where Flex Consumption keeps the deployed package (functionAppConfig.deployment.storage). */
export const DEPLOYMENT_CONTAINER = "functions-deployment";
/** Where Event Grid puts deliveries that failed every retry. */
export const EVENT_DEAD_LETTER_CONTAINER = "eventgrid-deadletter";
/** Blob prefixes of the pipeline's container (shared/stages/tables.ts `blobKeys`) that age out. */
const AGING_PREFIXES = { reports: "reports/", layerReports: "inventories/", matches: "matches/" } as const;

export interface PipelineStorage {
  account: storage.StorageAccount;
  /** the pipeline's container (PORTCULLIS_BLOB_CONTAINER) */
  container: storage.BlobContainer;
  deploymentContainer: storage.BlobContainer;
  deadLetterContainer: storage.BlobContainer;
  tables: storage.Table[];
}

/**
 * One StorageV2 account for the Functions host and the pipeline: no shared key (every client
 * signs in with Entra ID), TLS 1.2, no anonymous blob access, soft delete, and a lifecycle
 * policy so old reports, layer reports and match results do not accumulate forever.
 */
export function pipelineStorage(
  resourceGroupName: pulumi.Input<string>,
  config: StackConfig,
  pipelineContainerName: string,
): PipelineStorage {
  const account = new storage.StorageAccount("store", {
    resourceGroupName,
    location: config.location,
    kind: "StorageV2",
    sku: { name: "Standard_LRS" }, // reports and layer reports can be rebuilt from the registries
    allowSharedKeyAccess: false,
    defaultToOAuthAuthentication: true,
    allowBlobPublicAccess: false,
    minimumTlsVersion: "TLS1_2",
    enableHttpsTrafficOnly: true,
    allowCrossTenantReplication: false,
    isLocalUserEnabled: false, // no SFTP local users: another key-based door
    isSftpEnabled: false,
  });
  const inAccount = { resourceGroupName, accountName: account.name };

  const retention = config.retention;
  new storage.BlobServiceProperties("store-blob-service", {
    ...inAccount,
    blobServicesName: "default",
    deleteRetentionPolicy: { enabled: true, days: retention.softDeleteDays },
    containerDeleteRetentionPolicy: { enabled: true, days: retention.softDeleteDays },
  });

  // Prefixes of a lifecycle rule start with the container's name.
  const age = (name: string, prefix: string, days: number): inputs.storage.ManagementPolicyRuleArgs => ({
    name,
    enabled: true,
    type: "Lifecycle",
    definition: {
      filters: { blobTypes: ["blockBlob"], prefixMatch: [prefix] },
      actions: { baseBlob: { delete: { daysAfterModificationGreaterThan: days } } },
    },
  });
  const inPipeline = (prefix: string) => `${pipelineContainerName}/${prefix}`;
  new storage.ManagementPolicy("store-lifecycle", {
    ...inAccount,
    managementPolicyName: "default",
    policy: {
      rules: [
        age("old-reports", inPipeline(AGING_PREFIXES.reports), retention.reportDays),
        age("old-layer-reports", inPipeline(AGING_PREFIXES.layerReports), retention.layerReportDays),
        age("old-matches", inPipeline(AGING_PREFIXES.matches), retention.matchesDays),
        age("old-event-dead-letters", `${EVENT_DEAD_LETTER_CONTAINER}/`, retention.deadLetterDays),
      ],
    },
  });

  const container = (name: string, containerName: string) =>
    new storage.BlobContainer(name, { ...inAccount, containerName, publicAccess: "None" });

  return {
    account,
    container: container("pipeline-blobs", pipelineContainerName),
    deploymentContainer: container("deployment-package", DEPLOYMENT_CONTAINER),
    deadLetterContainer: container("eventgrid-deadletter", EVENT_DEAD_LETTER_CONTAINER),
    // One line in TABLES (the code's own list) is one table here.
    tables: Object.entries(TABLES).map(
      ([key, tableName]) => new storage.Table(`table-${key}`, { ...inAccount, tableName }),
    ),
  };
}
