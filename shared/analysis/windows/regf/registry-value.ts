import type { HiveContext } from "./hive-context.js";
import { RegfError } from "./regf-error.js";
import { readValueData } from "./value-data.js";
import type { ValueNode } from "./value-node.js";
import { RegType, regTypeName } from "./value-type.js";

/** One value of a key. Data is read on first access, so one bad value does not hide its siblings. */
export class RegistryValue {
  readonly #ctx: HiveContext;
  readonly #vk: ValueNode;
  #data: Buffer | undefined;

  constructor(ctx: HiveContext, vk: ValueNode) {
    this.#ctx = ctx;
    this.#vk = vk;
  }

  /** "" is the key's default value */
  get name(): string {
    return this.#vk.name;
  }
  get type(): number {
    return this.#vk.type;
  }
  get typeName(): string {
    return regTypeName(this.#vk.type);
  }
  /** declared data length in bytes */
  get size(): number {
    return this.#vk.size;
  }
  get data(): Buffer {
    this.#data ??= readValueData(this.#ctx.cells, this.#vk, this.#ctx.limits.maxValueBytes);
    return this.#data;
  }

  /** REG_SZ / EXPAND_SZ / LINK as text (UTF-16LE, cut at the first NUL); other types → undefined. */
  asString(): string | undefined {
    const t = this.#vk.type;
    if (t !== RegType.SZ && t !== RegType.EXPAND_SZ && t !== RegType.LINK) return undefined;
    const text = utf16(this.data);
    const nul = text.indexOf("\0");
    return nul < 0 ? text : text.slice(0, nul);
  }

  /** REG_MULTI_SZ as its strings (the empty terminator strings dropped); other types → undefined. */
  asStrings(): string[] | undefined {
    if (this.#vk.type !== RegType.MULTI_SZ) return undefined;
    const parts = utf16(this.data).split("\0");
    while (parts.length > 0 && parts[parts.length - 1] === "") parts.pop();
    return parts;
  }

  /** REG_DWORD (LE), REG_DWORD_BIG_ENDIAN, or REG_QWORD within 2^53; other types → undefined. */
  asNumber(): number | undefined {
    const t = this.#vk.type;
    if (t === RegType.QWORD) {
      const big = this.asBigInt();
      if (big === undefined || big > BigInt(Number.MAX_SAFE_INTEGER)) {
        throw new RegfError("not-a-number", this.#vk.hiveOffset, `QWORD "${this.name}" exceeds 2^53`);
      }
      return Number(big);
    }
    if (t !== RegType.DWORD && t !== RegType.DWORD_BIG_ENDIAN) return undefined;
    const d = this.data;
    if (d.length < 4)
      throw new RegfError("not-a-number", this.#vk.hiveOffset, `DWORD "${this.name}" has ${d.length} bytes`);
    return t === RegType.DWORD ? d.readUInt32LE(0) : d.readUInt32BE(0);
  }

  asBigInt(): bigint | undefined {
    if (this.#vk.type !== RegType.QWORD) return undefined;
    const d = this.data;
    if (d.length < 8)
      throw new RegfError("not-a-number", this.#vk.hiveOffset, `QWORD "${this.name}" has ${d.length} bytes`);
    return d.readBigUInt64LE(0);
  }
}

function utf16(data: Buffer): string {
  return data.subarray(0, data.length & ~1).toString("utf16le");
}
