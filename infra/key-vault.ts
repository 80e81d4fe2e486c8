import * as keyvault from "@pulumi/azure-native/keyvault/index.js";
import * as pulumi from "@pulumi/pulumi";
import type { SettingName } from "../shared/composition/settings.js";
import type { StackConfig } from "./stack-config.js";

/** Key Vault secret names allow letters, digits and dashes: PORTCULLIS_HOOK_TOKEN → portcullis-hook-token. */
export const secretNameOf = (setting: SettingName): string => setting.toLowerCase().replace(/_/g, "-");

/**
 * A vault that answers to RBAC only (no access policies), holding the secret app settings. The
 * app reads them through Key Vault references with its identity; nothing else is granted.
 */
export function secretVault(
  resourceGroupName: pulumi.Input<string>,
  config: StackConfig,
  tenantId: pulumi.Input<string>,
  secrets: Partial<Record<SettingName, pulumi.Input<string>>>,
): {
  vault: keyvault.Vault;
  secrets: { setting: SettingName; secret: keyvault.Secret; reference: pulumi.Output<string> }[];
} {
  const vault = new keyvault.Vault("vault", {
    resourceGroupName,
    location: config.location,
    properties: {
      tenantId,
      sku: { family: "A", name: "standard" },
      enableRbacAuthorization: true,
      enableSoftDelete: true,
      softDeleteRetentionInDays: 7, // the minimum: a torn-down stack can be recreated a week later
      enablePurgeProtection: true, // a deleted secret cannot be purged before soft delete ends
      enabledForDeployment: false,
      enabledForTemplateDeployment: false,
      enabledForDiskEncryption: false,
    },
  });
  const stored = Object.entries(secrets).map(([setting, value]) => {
    const name = secretNameOf(setting as SettingName);
    const secret = new keyvault.Secret(`secret-${name}`, {
      resourceGroupName,
      vaultName: vault.name,
      secretName: name,
      properties: { value: pulumi.secret(value as pulumi.Input<string>) },
    });
    // Versionless: a rotated secret reaches the app within a day without a redeploy.
    const reference = pulumi.interpolate`@Microsoft.KeyVault(SecretUri=${vault.properties.vaultUri}secrets/${name}/)`;
    return { setting: setting as SettingName, secret, reference };
  });
  return { vault, secrets: stored };
}
