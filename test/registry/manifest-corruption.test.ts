import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ScanError } from "../../shared/model/errors.js";
import { parseManifestDocument } from "../../shared/registry/manifest-document.js";
import { corpusPath } from "../support/corpus.js";
import { seededRandom as random } from "../support/seeded-random.js";

const BLOBS = corpusPath("images/trivy/test.oci/blobs/sha256");

/** JSON-aware mutations: values swapped for other types, keys dropped, arrays emptied or nested deep. */
function mutate(value: unknown, next: () => number, depth = 0): unknown {
  const roll = next();
  if (depth > 0 && roll < 0.08) {
    const odd = [null, 0, -1, 1e308, "", "x".repeat(300), [], {}, true, [[[[[]]]]]];
    return odd[Math.floor(next() * odd.length)];
  }
  if (Array.isArray(value)) return roll < 0.1 ? [] : value.map((v) => mutate(v, next, depth + 1));
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (next() > 0.1) out[k] = mutate(v, next, depth + 1);
    return out;
  }
  return value;
}

describe("manifest parsing on mutated manifests and configs", () => {
  it("answers every mutation with a document or a ScanError, never a TypeError", async () => {
    const names = await readdir(BLOBS);
    const documents: unknown[] = [];
    for (const name of names) {
      try {
        documents.push(JSON.parse(await readFile(path.join(BLOBS, name), "utf8")));
      } catch {
        // layer blobs are not JSON
      }
    }
    // the layout's index too, so index parsing is mutated as well as manifests and configs
    documents.push(JSON.parse(await readFile(path.join(BLOBS, "../../index.json"), "utf8")));
    expect(documents.length).toBeGreaterThan(2);
    const next = random(7);
    let parsed = 0;
    let refused = 0;
    for (let i = 0; i < 600; i++) {
      const doc = documents[i % documents.length];
      const bytes = Buffer.from(JSON.stringify(mutate(doc, next)) ?? "null");
      try {
        parseManifestDocument({ bytes, digest: `sha256:${"0".repeat(64)}` }, `case ${i}`);
        parsed++;
      } catch (err) {
        expect(err, `case ${i}: ${String(err)}`).toBeInstanceOf(ScanError);
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(0);
    expect(parsed + refused).toBe(600);
  });
});
