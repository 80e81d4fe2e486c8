import { loadPolicy } from "../policy/load-policy.js";
import type { Policy } from "../policy/policy.js";
import { loadVexDocuments, type OpenVexDocument } from "../policy/vex.js";

/** The policy file named in settings (or `portcullis.yaml` in `cwd`, or the default) with its VEX documents. */
export async function loadPolicyInputs(
  path: string | undefined,
  cwd?: string,
): Promise<{ policy: Policy; vex: OpenVexDocument[]; source: string | undefined }> {
  const loaded = await loadPolicy({ ...(path ? { path } : {}), ...(cwd ? { cwd } : {}) });
  const vex = await loadVexDocuments(loaded.policy.vex, loaded.baseDir);
  return { policy: loaded.policy, vex, source: loaded.source };
}
