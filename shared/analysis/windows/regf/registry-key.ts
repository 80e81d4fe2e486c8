import type { HiveContext } from "./hive-context.js";
import { type KeyNode, readKeyNode } from "./key-node.js";
import { RegfError } from "./regf-error.js";
import { RegistryValue } from "./registry-value.js";
import { readSubkeyList } from "./subkey-list.js";
import { readValueList, readValueNode } from "./value-node.js";

const ROOT_PARENT = -1;

/** Registry names compare case-insensitively, as Windows does. */
export const sameRegistryName = (a: string, b: string): boolean => a.toUpperCase() === b.toUpperCase();

/** One key of an open hive. Subkeys and values are read lazily and memoised. */
export class RegistryKey {
  readonly #ctx: HiveContext;
  readonly #nk: KeyNode;
  /** names from the root (the root itself is []) */
  readonly path: readonly string[];
  #subkeys: RegistryKey[] | undefined;
  #values: RegistryValue[] | undefined;

  private constructor(ctx: HiveContext, nk: KeyNode, path: readonly string[]) {
    this.#ctx = ctx;
    this.#nk = nk;
    this.path = path;
  }

  static root(ctx: HiveContext, offset: number): RegistryKey {
    ctx.claimedBy.set(offset, ROOT_PARENT);
    return new RegistryKey(ctx, readKeyNode(ctx.cells, offset), []);
  }

  get name(): string {
    return this.#nk.name;
  }
  /** FILETIME (100-ns ticks since 1601-01-01 UTC) of the key's last write */
  get lastWritten(): bigint {
    return this.#nk.lastWritten;
  }
  get lastWrittenDate(): Date {
    return new Date(Number(this.#nk.lastWritten / 10_000n - 11_644_473_600_000n));
  }
  get offset(): number {
    return this.#nk.hiveOffset;
  }
  /** the count stored in the nk record; `subkeys().length` is what the list really holds */
  get declaredSubkeyCount(): number {
    return this.#nk.subkeyCount;
  }

  get className(): string | undefined {
    const { classNameOffset, classNameLength } = this.#nk;
    if (classNameLength === 0 || classNameOffset === 0xffffffff) return undefined;
    const cell = this.#ctx.cells.payload(classNameOffset, "class name");
    return cell.subarray(0, Math.min(classNameLength, cell.length) & ~1).toString("utf16le");
  }

  subkeys(): RegistryKey[] {
    this.#subkeys ??= this.#readSubkeys();
    return this.#subkeys;
  }

  subkey(name: string): RegistryKey | undefined {
    return this.subkeys().find((k) => sameRegistryName(k.name, name));
  }

  values(): RegistryValue[] {
    this.#values ??= readValueList(this.#ctx.cells, this.#nk.valueListOffset, this.#nk.valueCount).map(
      (offset) => new RegistryValue(this.#ctx, readValueNode(this.#ctx.cells, offset)),
    );
    return this.#values;
  }

  value(name: string): RegistryValue | undefined {
    return this.values().find((v) => sameRegistryName(v.name, name));
  }

  #readSubkeys(): RegistryKey[] {
    const { cells, limits, claimedBy } = this.#ctx;
    if (this.#nk.subkeyCount === 0) return [];
    const at = cells.fileOffset(this.#nk.hiveOffset);
    if (this.path.length + 1 > limits.maxDepth) {
      throw new RegfError("too-deep", at, `keys nest deeper than ${limits.maxDepth}`);
    }
    const remaining = limits.maxKeys - claimedBy.size;
    const offsets = readSubkeyList(cells, this.#nk.subkeyListOffset, remaining);
    const seen = new Set<number>();
    for (const offset of offsets) {
      if (seen.has(offset))
        throw new RegfError("shared-key", at, `subkey 0x${offset.toString(16)} listed twice`);
      seen.add(offset);
      if (claimedBy.has(offset)) {
        const cycle = this.#isSelfOrAncestor(offset);
        const what = cycle
          ? `an ancestor of "${this.path.join("\\")}"`
          : "already listed under another parent";
        throw new RegfError(cycle ? "cycle" : "shared-key", at, `subkey 0x${offset.toString(16)} is ${what}`);
      }
    }
    if (claimedBy.size + offsets.length > limits.maxKeys) {
      throw new RegfError("too-many-keys", at, `more than ${limits.maxKeys} keys`);
    }
    // read every child before claiming any, so a failed read leaves the bookkeeping untouched
    const nodes = offsets.map((offset) => readKeyNode(cells, offset));
    for (const nk of nodes) claimedBy.set(nk.hiveOffset, this.#nk.hiveOffset);
    return nodes.map((nk) => new RegistryKey(this.#ctx, nk, [...this.path, nk.name]));
  }

  /** Each key has exactly one claimed parent, so the ancestors are the claimedBy chain (≤ maxDepth long). */
  #isSelfOrAncestor(offset: number): boolean {
    for (let at: number | undefined = this.#nk.hiveOffset; at !== undefined && at !== ROOT_PARENT; ) {
      if (at === offset) return true;
      at = this.#ctx.claimedBy.get(at);
    }
    return false;
  }
}
