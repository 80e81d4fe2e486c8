import type { BaseBlock } from "./base-block.js";
import type { HiveContext } from "./hive-context.js";
import { RegistryKey } from "./registry-key.js";

/** An open, read-only regf hive. */
export class Hive {
  readonly header: BaseBlock;
  readonly #ctx: HiveContext;
  #root: RegistryKey | undefined;

  constructor(header: BaseBlock, ctx: HiveContext) {
    this.header = header;
    this.#ctx = ctx;
  }

  root(): RegistryKey {
    this.#root ??= RegistryKey.root(this.#ctx, this.header.rootCellOffset);
    return this.#root;
  }

  /** The key at `path` below the root (names case-insensitive), or undefined when absent. */
  subkey(path: readonly string[]): RegistryKey | undefined {
    let key: RegistryKey | undefined = this.root();
    for (const name of path) {
      key = key.subkey(name);
      if (key === undefined) return undefined;
    }
    return key;
  }

  /** Every key, depth-first, children in on-disk order (the order hivex reports). */
  *walk(): Generator<RegistryKey> {
    const stack: RegistryKey[] = [this.root()];
    while (stack.length > 0) {
      const key = stack.pop()!;
      yield key;
      const children = key.subkeys();
      for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]!);
    }
  }
}
