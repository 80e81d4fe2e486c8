import path from "node:path";
import { type Command, Option } from "commander";
import { z } from "zod";
import { dbUpdateOptions, readSetting, readSettings, type Settings } from "../../composition/settings.js";
import { FsBlobStore } from "../../ports/fs-blob-store.js";
import { MSRC_FEED } from "../../vulndb/db-format.js";
import {
  type DbStatus,
  DEFAULT_CVE_URL,
  DEFAULT_FEEDS,
  dbStatus,
  formatAge,
  importRecords,
  updateDb,
} from "../../vulndb/db-update.js";
import { DEFAULT_MSRC_BASE_URL } from "../../vulndb/msrc/msrc-feed.js";
import { DEFAULT_OSV_BASE_URL } from "../../vulndb/osv-export-feed.js";
import { DEFAULT_DEBIAN_TRACKER_URL, trackerMirrorUrl } from "../../vulndb/debian-tracker/tracker-feed.js";
import { DEFAULT_NVD_URL, nvdMirrorUrl } from "../../vulndb/nvd/nvd-feed.js";
import { defaultCacheDir } from "../image-options.js";
import { callServer } from "../server-api.js";
import { UsageError } from "../usage-error.js";
import { ScanError } from "../../model/errors.js";

/** `--cache-dir`, else `$PORTCULLIS_CACHE_DIR`, else `~/.cache/portcullis` (where the DB lives for the CLI). */
export function resolveCacheDir(option?: string): string {
  return path.resolve(option ?? defaultCacheDir());
}

/** The DB's BlobStore for the CLI: the cache directory. */
export function cacheStore(cacheDir?: string): FsBlobStore {
  return new FsBlobStore(resolveCacheDir(cacheDir));
}

function httpUrl(url: string): string {
  if (!/^https?:\/\/[^/]/.test(url)) throw new UsageError(`not an http(s) URL: ${url}`);
  return url;
}

/** The feed flags `db update` and `scan` share. */
export interface FeedFlags {
  dbUrl?: string;
  mirror?: string;
  msrcUrl?: string;
  cveUrl?: string;
  nvdUrl?: string;
  debianTrackerUrl?: string;
  /** false with --no-msrc */
  msrc?: boolean;
  ecosystems?: string;
}

/** Feed names as typed: MSRC is a feed name whatever its case. */
const feedNames = (names: readonly string[]) =>
  names
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => (s.toUpperCase() === MSRC_FEED ? MSRC_FEED : s));

/**
 * Where each feed comes from and which feeds to fetch (`MSRC` is one of them unless --no-msrc).
 * Flags win over the app settings `serve` reads too (PORTCULLIS_DB_URL, PORTCULLIS_MSRC_URL,
 * PORTCULLIS_DB_ECOSYSTEMS); `--mirror` (an air-gapped copy of both feeds) wins over `--db-url`
 * and serves MSRC at `<mirror>/msrc`.
 */
export function resolveFeedOptions(
  options: FeedFlags,
  settings: Settings = readSettings(),
): {
  baseUrl: string;
  msrcUrl: string;
  cveUrl: string;
  nvdUrl: string;
  debianTrackerUrl: string;
  ecosystems: string[];
} {
  const fromSettings = dbUpdateOptions(settings);
  const mirror = options.mirror?.replace(/\/+$/, "");
  const baseUrl = options.mirror ?? options.dbUrl ?? fromSettings.baseUrl ?? DEFAULT_OSV_BASE_URL;
  const msrcUrl =
    options.msrcUrl ??
    (mirror ? `${mirror}/msrc` : undefined) ??
    fromSettings.msrcUrl ??
    DEFAULT_MSRC_BASE_URL;
  const cveUrl =
    options.cveUrl ??
    (mirror ? `${mirror}/cve/cvelistV5.zip` : undefined) ??
    fromSettings.cveUrl ??
    DEFAULT_CVE_URL;
  const nvdUrl =
    options.nvdUrl ?? (mirror ? nvdMirrorUrl(mirror) : undefined) ?? fromSettings.nvdUrl ?? DEFAULT_NVD_URL;
  const debianTrackerUrl =
    options.debianTrackerUrl ??
    (mirror ? trackerMirrorUrl(mirror) : undefined) ??
    fromSettings.debianTrackerUrl ??
    DEFAULT_DEBIAN_TRACKER_URL;
  const named = options.ecosystems === undefined ? undefined : feedNames(options.ecosystems.split(","));
  if (named && named.length === 0) throw new UsageError("--ecosystems needs at least one name");
  const chosen = named ?? (fromSettings.ecosystems ? feedNames(fromSettings.ecosystems) : DEFAULT_FEEDS);
  const feeds = chosen.filter((f) => options.msrc !== false || f !== MSRC_FEED);
  if (feeds.length === 0) throw new UsageError("--no-msrc leaves no feed to fetch");
  return {
    baseUrl: httpUrl(baseUrl),
    msrcUrl: httpUrl(msrcUrl),
    cveUrl: httpUrl(cveUrl),
    nvdUrl: httpUrl(nvdUrl),
    debianTrackerUrl: httpUrl(debianTrackerUrl),
    ecosystems: [...feeds],
  };
}

/** One line per feed: where it came from, its fingerprint, and MSRC's months. */
function feedLines(status: DbStatus): string[] {
  return Object.entries(status.feeds)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([feed, s]) => {
      const months = Object.keys(s.documents ?? {}).sort(
        (a, b) =>
          Date.parse(`1 ${a.slice(5)} ${a.slice(0, 4)}`) - Date.parse(`1 ${b.slice(5)} ${b.slice(0, 4)}`),
      );
      const fingerprint = s.etag ? `etag ${s.etag}` : s.lastModified ? `last-modified ${s.lastModified}` : "";
      const span = months.length > 0 ? `${months.length} months ${months[0]}..${months.at(-1)}` : "";
      return [
        feed.padEnd(12),
        String(s.records).padStart(8),
        `  ${s.fetchedAt}`,
        ...[span, fingerprint, s.url ?? ""].filter(Boolean).map((t) => `  ${t}`),
      ].join("");
    });
}

const cacheDirOption = () =>
  new Option(
    "--cache-dir <dir>",
    "cache directory (default $PORTCULLIS_CACHE_DIR, else $XDG_CACHE_HOME/portcullis or ~/.cache/portcullis)",
  );

export function registerDb(program: Command): void {
  const db = program.command("db").description("manage the vulnerability database (OSV exports, MSRC CVRF)");

  db.command("update")
    .description(
      "download the OSV exports of each ecosystem and Microsoft's MSRC advisories; an unchanged feed costs one 304",
    )
    .option(
      "--db-url <url>",
      `OSV export base URL, <url>/<Ecosystem>/all.zip (default $PORTCULLIS_DB_URL, else ${DEFAULT_OSV_BASE_URL})`,
    )
    .option(
      "--mirror <url>",
      "an air-gapped mirror: OSV exports at <url>/<Ecosystem>/all.zip, MSRC at <url>/msrc, CVE records at <url>/cve/cvelistV5.zip, NVD at <url>/nvd/nvdcve-2.0-<year>.json.gz, the Debian tracker at <url>/debian-tracker/json (wins over --db-url)",
    )
    .option(
      "--msrc-url <url>",
      `MSRC CVRF API base, <url>/cvrf/v3.0/updates (default $PORTCULLIS_MSRC_URL, else ${DEFAULT_MSRC_BASE_URL})`,
    )
    .option("--no-msrc", "leave Microsoft's advisories (Windows, .NET runtime packs) out of the update")
    .option(
      "--cve-url <url>",
      `a zip of CVE JSON 5 records (default <mirror>/cve/cvelistV5.zip, $PORTCULLIS_CVE_URL, else ${DEFAULT_CVE_URL})`,
    )
    .option(
      "--nvd-url <url>",
      `NVD JSON 2.0 feed base, <url>/nvdcve-2.0-<year>.json.gz (default <mirror>/nvd, $PORTCULLIS_NVD_URL, else ${DEFAULT_NVD_URL})`,
    )
    .option(
      "--debian-tracker-url <url>",
      `the Debian security tracker's JSON (default <mirror>/debian-tracker/json, $PORTCULLIS_DEBIAN_TRACKER_URL, else ${DEFAULT_DEBIAN_TRACKER_URL})`,
    )
    .option(
      "--ecosystems <list>",
      `comma-separated feeds (default $PORTCULLIS_DB_ECOSYSTEMS, else ${DEFAULT_FEEDS.join(",")})`,
    )
    .addOption(cacheDirOption())
    .option(
      "--server <url>",
      "ask a running portcullis (serve, or the Functions app) to update its DB now and rescan what changed (POST /api/db/refresh); the feed flags are the server's settings then",
    )
    .option("--token <token>", "with --server: serve's hook token (default $PORTCULLIS_HOOK_TOKEN)")
    .option("--function-key <key>", "with --server: the Functions app's function key")
    .action(
      async (
        opts: FeedFlags & { cacheDir?: string; server?: string; token?: string; functionKey?: string },
      ) => {
        if (opts.server !== undefined) {
          await refreshOnServer(opts);
          return;
        }
        const result = await updateDb(cacheStore(opts.cacheDir), resolveFeedOptions(opts));
        process.stdout.write(
          `${result.changed ? "updated" : "up to date"}: vulnerability DB ${result.metadata.version}\n`,
        );
      },
    );

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
        ...(Object.keys(status.feeds).length > 0
          ? ["", `${"FEED".padEnd(12)}${"RECORDS".padStart(8)}  FETCHED`, ...feedLines(status)]
          : []),
      ];
      process.stdout.write(`${lines.join("\n")}\n`);
    });
}

/** The feed flags a server takes from its own settings instead: refused with --server, not ignored. */
const LOCAL_ONLY_FLAGS = ["dbUrl", "mirror", "msrcUrl", "cveUrl", "ecosystems", "cacheDir"] as const;

/** `db update --server`: the server updates its DB and queues the rescans; print what it did. */
async function refreshOnServer(
  opts: FeedFlags & { cacheDir?: string; server?: string; token?: string; functionKey?: string },
): Promise<void> {
  const given = LOCAL_ONLY_FLAGS.filter((f) => opts[f] !== undefined);
  if (given.length > 0 || opts.msrc === false)
    throw new UsageError(
      `--server updates the server's DB from the server's own feed settings; drop ${[...given.map((f) => `--${f.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`), ...(opts.msrc === false ? ["--no-msrc"] : [])].join(", ")}`,
    );
  const token = opts.token ?? readSetting("PORTCULLIS_HOOK_TOKEN");
  const answer = await callServer(
    {
      server: opts.server!,
      ...(token ? { token } : {}),
      ...(opts.functionKey ? { functionKey: opts.functionKey } : {}),
    },
    "POST",
    "db/refresh",
  );
  const result = DbRefreshAnswerSchema.safeParse(answer);
  if (!result.success)
    throw new ScanError("server-error", `${opts.server} answered something other than a DB refresh result`);
  const r = result.data;
  const lines = [
    `${r.changed ? "updated" : "up to date"}: vulnerability DB ${r.version} on ${opts.server}`,
    ...(r.changed
      ? [
          `${r.packages} package(s) and ${r.changedCves} CVE rating(s) changed; ${r.queued} image(s) queued for rescan`,
        ]
      : []),
    ...(r.needRepull.length > 0
      ? [
          `${r.needRepull.length} image(s) were analysed by older analyzers; a new scan (re-pull) would apply the current ones:`,
          ...r.needRepull.map((i) => `  ${i}`),
        ]
      : []),
    ...r.notQueued.map((n) => `not queued: ${n.image}: ${n.reason}`),
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
}

/** What `POST /api/db/refresh` answers (DbRefreshResult), checked before it is printed. */
const DbRefreshAnswerSchema = z.object({
  version: z.string(),
  changed: z.boolean(),
  packages: z.number(),
  changedCves: z.number(),
  queued: z.number(),
  needRepull: z.array(z.string()),
  notQueued: z.array(z.object({ image: z.string(), reason: z.string() })),
});
