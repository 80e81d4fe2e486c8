import { z } from "zod";

/** `{ "Value": "…" }`, the CVRF v3 JSON wrapper around text. */
const Text = z.object({ Value: z.string().nullish() }).nullish();
const ProductIds = z.array(z.string()).nullish();

/** `/cvrf/v3.0/updates`: one entry per monthly document. */
export const MsrcUpdatesIndexSchema = z.object({
  value: z.array(
    z.object({
      ID: z.string().regex(/^[0-9]{4}-[A-Za-z]{3}$/, "not a month id like 2024-Mar"),
      Alias: z.string().nullish(),
      DocumentTitle: z.string().nullish(),
      InitialReleaseDate: z.string().nullish(),
      CurrentReleaseDate: z.string().nullish(),
      CvrfUrl: z.string().nullish(),
    }),
  ),
});
export type MsrcUpdatesIndex = z.infer<typeof MsrcUpdatesIndexSchema>;

/** CVRF Threat types: 0 impact, 1 exploit status, 3 severity. */
export const THREAT_SEVERITY = 3;
/** CVRF Remediation types: 0 workaround, 1 mitigation, 2 vendor fix, 3 none available, 4 will not fix. */
export const REMEDIATION_VENDOR_FIX = 2;

export const CvrfVulnerabilitySchema = z.object({
  Title: Text,
  CVE: z.string().regex(/^CVE-\d{4}-\d{4,}$/, "not a CVE id"),
  Threats: z.array(z.object({ Type: z.number().int(), Description: Text, ProductID: ProductIds })).nullish(),
  CVSSScoreSets: z
    .array(
      z.object({
        BaseScore: z.number().nullish(),
        TemporalScore: z.number().nullish(),
        Vector: z.string().nullish(),
        ProductID: ProductIds,
      }),
    )
    .nullish(),
  Remediations: z
    .array(
      z.object({
        Type: z.number().int(),
        Description: Text,
        URL: z.string().nullish(),
        Supercedence: z.string().nullish(),
        SubType: z.string().nullish(),
        FixedBuild: z.string().nullish(),
        ProductID: ProductIds,
      }),
    )
    .nullish(),
});
export type CvrfVulnerability = z.infer<typeof CvrfVulnerabilitySchema>;

/** One monthly CVRF document as `/cvrf/v3.0/cvrf/<id>` returns it with Accept: application/json. */
export const CvrfDocumentSchema = z.object({
  DocumentTitle: Text,
  DocumentTracking: z.object({
    Identification: z.object({ ID: z.object({ Value: z.string() }) }),
    InitialReleaseDate: z.string().nullish(),
    CurrentReleaseDate: z.string(),
  }),
  ProductTree: z.object({
    FullProductName: z.array(z.object({ ProductID: z.string(), Value: z.string() })).nullish(),
  }),
  // one malformed vulnerability must not drop the month: parsed one by one in cvrf-to-osv
  Vulnerability: z.array(z.unknown()).nullish(),
});
export type CvrfDocument = z.infer<typeof CvrfDocumentSchema>;
