import { readFileSync } from "node:fs";
import path from "node:path";
import { corpusPath } from "../../support/corpus.js";

export const VECTOR_DIR = corpusPath("versions");

export type Op = "<" | "=" | ">";

export interface Vector {
  /** 1-based line number in the file */
  line: number;
  text: string;
  a: string;
  op: Op;
  b: string;
}

export const INVERSE: Record<Op, Op> = { "<": ">", "=": "=", ">": "<" };

export function opOf(n: number): Op {
  return n < 0 ? "<" : n > 0 ? ">" : "=";
}

/**
 * Reads an osv-scalibr `semantic/testdata` file: `<a> <op> <b>` per line, split on single spaces;
 * empty lines and lines starting with `# ` or `// ` are skipped.
 */
export function readVectors(file: string): Vector[] {
  const vectors: Vector[] = [];
  const lines = readFileSync(path.join(VECTOR_DIR, file), "utf8").split("\n");
  lines.forEach((text, i) => {
    if (text === "" || text.startsWith("# ") || text.startsWith("// ")) return;
    const parts = text.split(" ");
    const [a, op, b] = parts;
    if (
      parts.length !== 3 ||
      a === undefined ||
      b === undefined ||
      (op !== "<" && op !== "=" && op !== ">")
    ) {
      throw new Error(`${file}:${i + 1}: not a comparison: ${JSON.stringify(text)}`);
    }
    vectors.push({ line: i + 1, text, a, op, b });
  });
  return vectors;
}
