import { hostAnalyzers } from "../../analysis/registry.js";
import { writeFile } from "node:fs/promises";
import type { Command } from "commander";
import { matchInventory } from "../../matching/match.js";
import { type Report, type Severity, SeveritySchema } from "../../model/report.js";
import { FsBlobStore } from "../../ports/fs-blob-store.js";
import { loadPolicy } from "../../policy/load-policy.js";
import { loadVexDocuments } from "../../policy/vex.js";
import { renderSarif } from "../../report/sarif.js";
import { renderTable } from "../../report/table.js";
import { makeReport } from "../../stages/make-report.js";
import { ensureDb } from "../../vulndb/db-update.js";
import { collectInventories } from "../collect-inventories.js";
import { addImageOptions, type ImageOptions } from "../image-options.js";
import { UsageError } from "../usage-error.js";
import { type FeedFlags, resolveFeedOptions } from "./db.js";

const FORMATS = ["table", "json", "sarif"] as const;

interface ScanOptions extends ImageOptions, Omit<FeedFlags, "ecosystems"> {
  format: string;
  exitCode?: string;
  offline?: boolean;
  skipDbUpdate?: boolean;
  policy?: string;
  vex: string[];
  ignoreUnfixed?: boolean;
  severity?: string;
  output?: string;
  matchOsOwned?: boolean;
  includeDevDeps?: boolean;
}

const collect = (value: string, previous: string[]) => [...previous, value];

function parseSeverities(value: string | undefined): Severity[] | undefined {
  if (value === undefined) return undefined;
  const list = value
    .split(",")
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  const bad = list.filter((s) => !SeveritySchema.safeParse(s).success);
  if (bad.length > 0 || list.length === 0)
    throw new UsageError(`--severity takes a comma-separated list of ${SeveritySchema.options.join(", ")}`);
  return list as Severity[];
}

export function registerScan(program: Command): void {
  addImageOptions(
    program
      .command("scan")
      .description("scan an image for vulnerabilities and decide block / fix / pass by policy")
      .argument(
        "<image>",
        "registry/repo[:tag|@digest], oci:<dir>[:tag], oci-archive:<file>[:tag], docker-archive:<file>",
      )
      .option("-f, --format <format>", `output format: ${FORMATS.join(", ")}`, "table")
      .option("-o, --output <file>", "write the report to a file instead of stdout")
      .option("--exit-code <n>", "exit with this code when the verdict is block")
      .option(
        "--policy <file>",
        "policy file (default ./portcullis.yaml when present, else the built-in policy)",
      )
      .option(
        "--vex <file>",
        "an OpenVEX document whose statements suppress findings (repeatable)",
        collect,
        [],
      )
      .option("--ignore-unfixed", "leave out vulnerabilities that have no fixed version yet")
      .option(
        "--match-os-owned",
        "also match language packages an OS package installed against their own ecosystem (policy osOwnedPackages: both)",
      )
      .option("--include-dev-deps", "also match development dependencies (policy devDependencies: match)")
      .option("--severity <list>", "only these severities, e.g. critical,high")
      .option("--offline", "never download the vulnerability DB; use the one in the cache")
      .option("--skip-db-update", "use the cached DB however old")
      .option("--db-url <url>", "OSV export base URL (<url>/<Ecosystem>/all.zip)")
      .option("--mirror <url>", "air-gapped mirror of the OSV export bucket (MSRC at <url>/msrc)")
      .option("--msrc-url <url>", "MSRC CVRF API base (<url>/cvrf/v3.0/updates)")
      .option("--cve-url <url>", "a zip of CVE JSON 5 records, for severities no advisory gives")
      .option(
        "--nvd-url <url>",
        "NVD JSON 2.0 feed base (<url>/nvdcve-2.0-<year>.json.gz), for severities no advisory gives",
      )
      .option("--debian-tracker-url <url>", "the Debian security tracker's JSON, for Debian's own urgency")
      .option("--no-msrc", "leave Microsoft's advisories out of the automatic DB update"),
  ).action(async (image: string, opts: ScanOptions) => {
    if (!(FORMATS as readonly string[]).includes(opts.format))
      throw new UsageError(`--format must be one of ${FORMATS.join(", ")}`);
    const exitCode = opts.exitCode === undefined ? undefined : Number(opts.exitCode);
    if (exitCode !== undefined && (!Number.isInteger(exitCode) || exitCode < 0 || exitCode > 255))
      throw new UsageError("--exit-code takes a number from 0 to 255");
    const severity = parseSeverities(opts.severity);
    const loaded = await loadPolicy(opts.policy ? { path: opts.policy } : {}).catch(
      (err: NodeJS.ErrnoException) => {
        // a policy file named on the command line that is not there is a usage error (exit 2)
        if (err.code === "ENOENT" && opts.policy)
          throw new UsageError(`--policy: no such file: ${opts.policy}`);
        throw err;
      },
    );
    const vex = await loadVexDocuments([...(loaded.policy.vex ?? []), ...opts.vex], loaded.baseDir);

    const db = await ensureDb(new FsBlobStore(opts.cacheDir), {
      offline: Boolean(opts.offline),
      skipUpdate: Boolean(opts.skipDbUpdate),
      ...(opts.offline ? {} : resolveFeedOptions(opts)),
    });
    const stamp = { version: db.metadata.version, updatedAt: db.metadata.updatedAt };
    const inventories = await collectInventories(image, opts, {
      ...(loaded.policy.limits ? { limits: loaded.policy.limits } : {}),
      analyzers: await hostAnalyzers(loaded.policy.content.yaraRules, (m) => process.stderr.write(`${m}\n`)),
    });
    const reports: Report[] = [];
    const tables: string[] = [];
    for (const inventory of inventories) {
      const matches = await matchInventory(inventory.packages, db, {
        ...loaded.policy,
        ...(opts.matchOsOwned ? { osOwnedPackages: "both" } : {}),
        ...(opts.includeDevDeps ? { devDependencies: "match" } : {}),
      });
      const { report, decision } = makeReport(inventory, matches, stamp, {
        policy: loaded.policy,
        vex,
        filters: {
          ...(opts.ignoreUnfixed ? { ignoreUnfixed: true } : {}),
          ...(severity ? { severity } : {}),
        },
      });
      reports.push(report);
      if (opts.format === "table")
        tables.push(
          renderTable(report, { actions: decision.actions, ...(opts.output ? { color: false } : {}) }),
        );
    }
    const text =
      opts.format === "json"
        ? JSON.stringify(reports.length === 1 ? reports[0] : reports, null, 2)
        : opts.format === "sarif"
          ? JSON.stringify(renderSarif(reports, { toolVersion: "0.1.0" }), null, 2)
          : tables.join("\n");
    if (opts.output) await writeFile(opts.output, `${text}\n`);
    else process.stdout.write(`${text}\n`);
    if (exitCode !== undefined && reports.some((r) => r.verdict?.decision === "block"))
      process.exitCode = exitCode;
  });
}
