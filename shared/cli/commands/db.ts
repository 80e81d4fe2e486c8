import path from "node:path";
import { type Command, Option } from "commander";
import { FsBlobStore } from "../../ports/fs-blob-store.js";
import { dbStatus, formatAge, importRecords, updateDb } from "../../vulndb/db-update.js";
import { DEFAULT_ECOSYSTEMS, DEFAULT_OSV_BASE_URL } from "../../vulndb/osv-export-feed.js";
import { defaultCacheDir } from "../image-options.js";
import { UsageError } from "../usage-error.js";

/** `--cache-dir`, else `$PORTCULLIS_CACHE_DIR`, else `~/.cache/portcullis` (where the DB lives for the CLI). */
export function resolveCacheDir(option?: string): string {
  return path.resolve(option ?? defaultCacheDir());
}

/** The DB's BlobStore for the CLI: the cache directory. */
export function cacheStore(cacheDir?: string): FsBlobStore {
  return new FsBlobStore(resolveCacheDir(cacheDir));
}

/** `--mirror` (air-gapped copy of the export bucket) wins over `--db-url`, then `$PORTCULLIS_DB_URL`. */
export function resolveFeedUrl(options: { dbUrl?: string; mirror?: string }): string {
  const url = options.mirror ?? options.dbUrl ?? process.env.PORTCULLIS_DB_URL ?? DEFAULT_OSV_BASE_URL;
  if (!/^https?:\/\/[^/]/.test(url)) throw new UsageError(`not an http(s) URL: ${url}`);
  return url;
}

const cacheDirOption = () =>
  new Option(
    "--cache-dir <dir>",
    "cache directory (default $PORTCULLIS_CACHE_DIR, else $XDG_CACHE_HOME/portcullis or ~/.cache/portcullis)",
  );

export function registerDb(program: Command): void {
  const db = program.command("db").description("manage the vulnerability database (OSV exports)");

  db.command("update")
    .description("download the OSV exports of each ecosystem; an unchanged ecosystem costs one 304")
    .option(
      "--db-url <url>",
      `OSV export base URL, <url>/<Ecosystem>/all.zip (default ${DEFAULT_OSV_BASE_URL})`,
    )
    .option(
      "--mirror <url>",
      "an air-gapped mirror of the OSV export bucket (same layout; wins over --db-url)",
    )
    .option("--ecosystems <list>", `comma-separated OSV ecosystems (default ${DEFAULT_ECOSYSTEMS.join(",")})`)
    .addOption(cacheDirOption())
    .action(async (opts: { dbUrl?: string; mirror?: string; ecosystems?: string; cacheDir?: string }) => {
      const ecosystems = opts.ecosystems
        ?.split(",")
        .map((s) => s.trim())
        .filter(Boolean);
      if (ecosystems && ecosystems.length === 0) throw new UsageError("--ecosystems needs at least one name");
      const result = await updateDb(cacheStore(opts.cacheDir), {
        baseUrl: resolveFeedUrl(opts),
        ...(ecosystems ? { ecosystems } : {}),
      });
      process.stdout.write(
        `${result.changed ? "updated" : "up to date"}: vulnerability DB ${result.metadata.version}\n`,
      );
    });

  db.command("import")
    .description("merge local OSV records (a directory, a zip, or one JSON/YAML file) into the DB")
    .argument("<path>", "directory, .zip, or record file")
    .addOption(cacheDirOption())
    .action(async (target: string, opts: { cacheDir?: string }) => {
      const { metadata, stats } = await importRecords(cacheStore(opts.cacheDir), path.resolve(target));
      process.stdout.write(
        `imported ${stats.records} records (${stats.withdrawn} withdrawn, ${stats.skipped} skipped): vulnerability DB ${metadata.version}\n`,
      );
    });

  db.command("status")
    .description("print the DB version, age and per-ecosystem counts")
    .addOption(new Option("--format <format>", "output format").choices(["table", "json"]).default("table"))
    .addOption(cacheDirOption())
    .action(async (opts: { format: string; cacheDir?: string }) => {
      const status = await dbStatus(cacheStore(opts.cacheDir));
      if (!status) {
        if (opts.format === "json") process.stdout.write("null\n");
        else
          process.stdout.write(
            "no vulnerability DB yet: run `portcullis db update` or `portcullis db import <dir|zip>`\n",
          );
        process.exitCode = 1;
        return;
      }
      if (opts.format === "json") {
        process.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
        return;
      }
      const lines = [
        `Version:    ${status.version}`,
        `Updated:    ${status.updatedAt} (${formatAge(status.ageMs)} ago)`,
        `Checked:    ${status.checkedAt}`,
        "",
        `${"ECOSYSTEM".padEnd(24)}${"ADVISORIES".padStart(12)}${"PACKAGES".padStart(10)}`,
        ...status.ecosystems.map(
          (e) =>
            `${e.ecosystem.padEnd(24)}${String(e.advisories).padStart(12)}${String(e.packages).padStart(10)}`,
        ),
      ];
      process.stdout.write(`${lines.join("\n")}\n`);
    });
}
