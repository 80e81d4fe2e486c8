import type { Hive } from "../../../windows/regf/index.js";
import { type DomainPolicy, parseDomainF, parseUserF, parseUserV, SamRecordError } from "./sam-records.js";

const ACCOUNT = ["SAM", "Domains", "Account"];

export interface SamUser {
  rid: number;
  name: string;
  acb: number;
  blankPassword: boolean;
}

/** What one SAM hive (delta) says: the account policy and the local users, no hash kept. */
export interface SamSettings {
  policy?: DomainPolicy;
  users: SamUser[];
  /** records that could not be read, said in the layer's warnings */
  problems: string[];
}

/** Reads the account domain and its users; a corrupt record is a problem to report, not a crash. */
export function samSettings(hive: Hive): SamSettings {
  const out: SamSettings = { users: [], problems: [] };
  const account = hive.subkey(ACCOUNT);
  if (account === undefined) return out;
  const f = account.value("F");
  if (f !== undefined) {
    try {
      out.policy = parseDomainF(f.data);
    } catch (err) {
      if (!(err instanceof SamRecordError)) throw err;
      out.problems.push(`SAM\\Domains\\Account F: ${err.message}`);
    }
  }
  for (const key of account.subkey("Users")?.subkeys() ?? []) {
    if (!/^[0-9A-F]{8}$/i.test(key.name)) continue;
    const uf = key.value("F");
    const uv = key.value("V");
    if (uf === undefined || uv === undefined) continue;
    try {
      const { rid, acb } = parseUserF(uf.data);
      const { name, blankPassword } = parseUserV(uv.data);
      out.users.push({ rid, name, acb, blankPassword });
    } catch (err) {
      if (!(err instanceof SamRecordError)) throw err;
      out.problems.push(`SAM\\Domains\\Account\\Users\\${key.name}: ${err.message}`);
    }
  }
  return out;
}
