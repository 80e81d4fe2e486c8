import type { Analyzer } from "../analyzer.js";
import { ClamdClient, parseClamdAddress } from "./clamd-client.js";
import { clamavMarker, createContentAnalyzer } from "./content-analyzer.js";

export { ClamdClient, parseClamdAddress } from "./clamd-client.js";
export { clamavMarker, createContentAnalyzer } from "./content-analyzer.js";

/**
 * The content engine for the registry list: clamd joins as the second engine when
 * `PORTCULLIS_CLAMD` names it (off when unset). A value that names no address fails loudly here.
 */
export function contentAnalyzers(clamdSetting: string | undefined): Analyzer[] {
  if (clamdSetting === undefined || clamdSetting.trim() === "") return [createContentAnalyzer()];
  const clamd = new ClamdClient(parseClamdAddress(clamdSetting));
  return [createContentAnalyzer({ clamd }), clamavMarker];
}
