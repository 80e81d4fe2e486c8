import * as authorization from "@pulumi/azure-native/authorization/index.js";
import * as pulumi from "@pulumi/pulumi";

/** Built-in role definition ids (GUIDs published by Azure, the same in every tenant). */
export const ROLES = {
  serviceBusDataSender: "69a216fc-b8fb-44d8-bc22-1f3c2cd27a39",
  serviceBusDataReceiver: "4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0",
  storageBlobDataOwner: "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
  storageBlobDataContributor: "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
  storageTableDataContributor: "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3",
  acrPull: "7f951dda-4ed3-4680-a7ca-43fe172d538d",
  keyVaultSecretsUser: "4633458b-17de-408a-b874-0445c86b69e6",
  monitoringMetricsPublisher: "3913510d-42f4-4e42-8a64-420c390055eb",
  /** Manage rights: reading a queue's runtime properties (its depth) needs them */
  serviceBusDataOwner: "090c5cfd-751d-490a-894a-3ce6f1109419",
} as const;
export type RoleName = keyof typeof ROLES;

export interface Grantee {
  principalId: pulumi.Input<string>;
  subscriptionId: pulumi.Input<string>;
}

/** One role for one managed identity at one scope (a resource id: the narrowest that works). */
export function grant(
  name: string,
  grantee: Grantee,
  role: RoleName,
  scope: pulumi.Input<string>,
  opts?: pulumi.CustomResourceOptions,
): authorization.RoleAssignment {
  return new authorization.RoleAssignment(
    name,
    {
      principalId: grantee.principalId,
      // A managed identity is a service principal: saying so skips the directory lookup that can
      // fail right after the identity is created.
      principalType: "ServicePrincipal",
      roleDefinitionId: pulumi.interpolate`/subscriptions/${grantee.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${ROLES[role]}`,
      scope,
      description: `portcullis: ${role}`,
    },
    opts,
  );
}
