export type { BaseBlock } from "./base-block.js";
export type { Hive } from "./hive.js";
export { DEFAULT_HIVE_LIMITS, type HiveLimits } from "./hive-limits.js";
export { openHive } from "./open-hive.js";
export { RegfError, type RegfErrorCode } from "./regf-error.js";
export { type RegistryKey, sameRegistryName } from "./registry-key.js";
export type { RegistryValue } from "./registry-value.js";
export { RegType, regTypeName } from "./value-type.js";
