import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { decide } from "../../shared/policy/decide.js";
import { DEFAULT_POLICY } from "../../shared/policy/policy.js";
import { PolicyError } from "../../shared/policy/policy-error.js";
import {
  loadVexDocuments,
  MAX_VEX_STATEMENTS,
  type OpenVexDocument,
  parseVex,
  VexIndex,
} from "../../shared/policy/vex.js";
import { IMAGE_DIGEST, match } from "./match-builder.js";

const FIXTURES = fileURLToPath(new URL("../fixtures/policy/", import.meta.url));
const image = { repository: "team-a/api", registry: "registry.example.com", digest: IMAGE_DIGEST };

function doc(statements: unknown[], timestamp = "2024-06-01T00:00:00Z"): OpenVexDocument {
  return parseVex(JSON.stringify({ "@context": "https://openvex.dev/ns/v0.2.0", timestamp, statements }));
}

const lodash = match({ id: "CVE-2024-0002", ecosystem: "npm", name: "lodash", version: "4.17.20" });
const express = (id: string) => match({ id, ecosystem: "npm", name: "express", version: "4.18.0" });

describe("OpenVEX", () => {
  it("suppresses not_affected and fixed statements and shows them; affected and under_investigation count", async () => {
    const vex = await loadVexDocuments(["vex/team-a.openvex.json"], FIXTURES);
    const openssl = match({ id: "CVE-2024-0001", severity: "critical" });
    const d = decide([openssl, lodash, express("CVE-2024-0003"), express("CVE-2024-0004")], DEFAULT_POLICY, {
      ...image,
      vex,
    });
    const byId = new Map(d.findings.map((f) => [f.id, f]));
    expect(byId.get("CVE-2024-0001")?.suppressed).toEqual({
      kind: "vex",
      reason:
        "not_affected: vulnerable_code_not_in_execute_path — the API never calls the affected PKCS12 parser",
    });
    expect(byId.get("CVE-2024-0002")?.suppressed).toEqual({ kind: "vex", reason: "fixed" });
    expect(byId.get("CVE-2024-0003")?.suppressed).toBeUndefined();
    expect(byId.get("CVE-2024-0004")?.suppressed).toBeUndefined();
    expect(d.verdict.reasons).toContain("suppressed: 2 by VEX statements");
  });

  it("matches a statement through the finding's aliases", () => {
    const vex = doc([
      {
        vulnerability: { name: "GHSA-aaaa-bbbb-cccc" },
        products: [{ "@id": "pkg:npm/lodash" }],
        status: "not_affected",
        justification: "component_not_present",
      },
    ]);
    const aliased = { ...lodash, aliases: ["GHSA-aaaa-bbbb-cccc"] };
    expect(decide([aliased], DEFAULT_POLICY, { ...image, vex: [vex] }).findings[0]?.suppressed?.kind).toBe(
      "vex",
    );
  });

  it.each([
    [
      "the package purl with qualifiers",
      "pkg:npm/lodash@4.17.20?repository_url=https://npm.example.com",
      true,
    ],
    ["the package purl without a version", "pkg:npm/lodash", true],
    ["another version of the package", "pkg:npm/lodash@4.17.21", false],
    ["another package", "pkg:npm/underscore", false],
    ["another ecosystem", "pkg:pypi/lodash", false],
    ["the image digest", IMAGE_DIGEST, true],
    ["the image by repository@digest", `registry.example.com/team-a/api@${IMAGE_DIGEST}`, true],
    ["an oci purl with the image digest", `pkg:oci/api@${IMAGE_DIGEST.replace(":", "%3A")}`, true],
    ["an oci purl with another digest", `pkg:oci/api@sha256%3A${"0".repeat(64)}`, false],
    ["an oci purl naming the repository", "pkg:oci/api?repository_url=registry.example.com/team-a/api", true],
    [
      "an oci purl naming another repository",
      "pkg:oci/api?repository_url=registry.example.com/team-b/api",
      false,
    ],
    ["a mutable tag", "registry.example.com/team-a/api:1.4", false],
  ])("matches a product given as %s: %s", (_title, productId, suppressed) => {
    const vex = doc([
      { vulnerability: { name: "CVE-2024-0002" }, products: [{ "@id": productId }], status: "fixed" },
    ]);
    const d = decide([lodash], DEFAULT_POLICY, { ...image, vex: [vex] });
    expect(d.findings[0]?.suppressed !== undefined).toBe(suppressed);
  });

  it("narrows an image product to its listed subcomponents", () => {
    const vex = doc([
      {
        vulnerability: { name: "CVE-2024-0002" },
        products: [{ "@id": IMAGE_DIGEST, subcomponents: [{ "@id": "pkg:npm/underscore" }] }],
        status: "not_affected",
        justification: "vulnerable_code_not_present",
      },
    ]);
    expect(
      decide([lodash], DEFAULT_POLICY, { ...image, vex: [vex] }).findings[0]?.suppressed,
    ).toBeUndefined();
  });

  it("lets a later statement supersede an earlier one", () => {
    const earlier = {
      vulnerability: { name: "CVE-2024-0002" },
      products: [{ "@id": "pkg:npm/lodash" }],
      status: "not_affected",
      justification: "vulnerable_code_not_in_execute_path",
      timestamp: "2024-01-01T00:00:00Z",
    };
    const later = {
      ...earlier,
      status: "affected",
      justification: undefined,
      timestamp: "2024-03-01T00:00:00Z",
    };
    const d = decide([lodash], DEFAULT_POLICY, { ...image, vex: [doc([later]), doc([earlier])] });
    expect(d.findings[0]?.suppressed).toBeUndefined();
  });

  it("reads OpenVEX 0.0.x string vulnerabilities and products", () => {
    const vex = doc([{ vulnerability: "CVE-2024-0002", products: ["pkg:npm/lodash"], status: "fixed" }]);
    expect(decide([lodash], DEFAULT_POLICY, { ...image, vex: [vex] }).findings[0]?.suppressed?.kind).toBe(
      "vex",
    );
  });

  it("rejects a malformed document, naming the statement", async () => {
    const text = await readFile(`${FIXTURES}vex/malformed.openvex.json`, "utf8");
    let err: unknown;
    try {
      parseVex(text, "malformed.openvex.json");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PolicyError);
    const issues = (err as PolicyError).issues.map((i) => i.path);
    expect(issues).toContain("statements[0].justification");
    expect(issues).toContain("statements[1].status");
    expect((err as PolicyError).message).toMatch(
      /^malformed\.openvex\.json: statements\[0\]\.justification: .*justification/,
    );
  });

  it.each([
    ["not JSON", "{", /not JSON/],
    ["no OpenVEX context", JSON.stringify({ "@context": "https://example.com", statements: [] }), /@context/],
    ["no statements", JSON.stringify({ "@context": "https://openvex.dev/ns/v0.2.0" }), /statements/],
  ])("rejects %s", (_title, text, message) => {
    expect(() => parseVex(text)).toThrow(message);
  });

  it("indexes thousands of statements and suppresses each matching finding", () => {
    const statements = Array.from({ length: 20_000 }, (_, i) => ({
      vulnerability: { name: `CVE-2024-${String(i).padStart(5, "0")}` },
      products: [{ "@id": `pkg:npm/pkg-${i}` }],
      status: "not_affected",
      justification: "component_not_present",
    }));
    const vex = doc(statements);
    const matches = Array.from({ length: 2_000 }, (_, i) =>
      match({ id: `CVE-2024-${String(i * 10).padStart(5, "0")}`, ecosystem: "npm", name: `pkg-${i * 10}` }),
    );
    const d = decide(matches, DEFAULT_POLICY, { ...image, vex: [vex] });
    expect(d.findings).toHaveLength(2_000);
    expect(d.findings.every((f) => f.suppressed?.kind === "vex")).toBe(true);
  });

  it("refuses more statements than the limit", () => {
    const statement = { vulnerability: { name: "CVE-1" }, products: [], status: "fixed" };
    expect(() => doc(Array.from({ length: MAX_VEX_STATEMENTS + 1 }, () => statement))).toThrow(PolicyError);
  });

  it("indexes nothing for an empty set of documents", () => {
    expect(new VexIndex([]).statementFor(lodash, image)).toBeUndefined();
  });
});
