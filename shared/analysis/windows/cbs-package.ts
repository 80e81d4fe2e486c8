/** What a Component Based Servicing package identity says about installed updates. */
export interface CbsPackage {
  identity: string;
  /** "KB5005112" for Package_for_KB…, undefined otherwise */
  kb?: string;
  /** "17763.3406" for a Package_for_RollupFix (the cumulative update's OS build) */
  rollupBuild?: string;
  state?: CbsState;
}

export type CbsState = "installed" | "superseded" | "staged" | "install-pending" | "absent" | "other";

// CBS CurrentState values: 0 absent, 64 staged, 80 superseded, 96 install pending, 112 installed, 128 permanent
const STATES = new Map<number, CbsState>([
  [0, "absent"],
  [64, "staged"],
  [80, "superseded"],
  [96, "install-pending"],
  [112, "installed"],
  [128, "installed"],
]);

export function cbsState(currentState: number): CbsState {
  return STATES.get(currentState) ?? "other";
}

/** `Package_for_RollupFix~31bf3856ad364e35~amd64~~17763.3406.1.5` → rollup build 17763.3406. */
export function parseCbsPackage(identity: string, currentState?: number): CbsPackage {
  const [name = "", , , , version = ""] = identity.split("~");
  const out: CbsPackage = { identity };
  const kb = /^Package_for_KB(\d+)$/i.exec(name);
  if (kb) out.kb = `KB${kb[1]}`;
  const rollup = /^(\d+)\.(\d+)\./.exec(version);
  if (/^Package_for_RollupFix$/i.test(name) && rollup) out.rollupBuild = `${rollup[1]}.${rollup[2]}`;
  if (currentState !== undefined) out.state = cbsState(currentState);
  return out;
}
