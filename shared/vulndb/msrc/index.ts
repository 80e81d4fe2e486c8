export { type CvrfDocument, CvrfDocumentSchema, MsrcUpdatesIndexSchema } from "./cvrf-schema.js";
export { type CvrfConversionStats, cvrfToOsv } from "./cvrf-to-osv.js";
export {
  DEFAULT_MSRC_BASE_URL,
  fetchMsrcUpdates,
  type MsrcFeedResult,
  type MsrcFingerprint,
} from "./msrc-feed.js";
export { productTargets } from "./msrc-product.js";
export { type RemediationHint, RemediationHintSchema, remediationHintOf } from "./remediation-hint.js";
export { windowsBaseImage } from "./windows-base-image.js";
