import type { Analyzer } from "../analyzer.js";
import { ClamdClient, parseClamdAddress } from "./clamd-client.js";
import { clamavMarker, createContentAnalyzer } from "./content-analyzer.js";
import { YaraEngine } from "./yara-engine.js";
import type { UserYaraRules } from "./yara-rule-dirs.js";

export { ClamdClient, parseClamdAddress } from "./clamd-client.js";
export {
  clamavMarker,
  clamdSignatureVersion,
  createContentAnalyzer,
  pinClamdSignatures,
} from "./content-analyzer.js";
export { YaraEngine } from "./yara-engine.js";
export { readUserYaraRules } from "./yara-rule-dirs.js";

/**
 * The content engine for the registry list: YARA-X with the shipped rules (and the user's, when
 * given), and clamd as the second engine when `PORTCULLIS_CLAMD` names it (off when unset). A value
 * that names no address, or a user rule that does not compile, fails loudly here.
 */
export function contentAnalyzers(clamdSetting: string | undefined, userRules?: UserYaraRules): Analyzer[] {
  const yara = new YaraEngine(userRules);
  if (clamdSetting === undefined || clamdSetting.trim() === "") return [createContentAnalyzer({ yara })];
  const clamd = new ClamdClient(parseClamdAddress(clamdSetting));
  return [createContentAnalyzer({ clamd, yara }), clamavMarker(clamd)];
}
