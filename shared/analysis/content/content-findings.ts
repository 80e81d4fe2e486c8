import type { ContentFact, ContentFinding } from "../../model/content.js";
import type { ScanWarning } from "../../model/inventory.js";
import type { LayerData } from "../analyzer.js";
import { type ContentData, ContentDataSchema } from "./content-data.js";
import { DPKG_STATUS } from "./dpkg-records.js";
import { hivePersistenceFindings } from "./hive-persistence.js";
import { persistencePlace } from "./persistence-paths.js";
import { type ScheduledTask, scheduledTaskFindings } from "./scheduled-tasks.js";
import { hiveBuild, windowsBuildMismatches } from "./windows-build-check.js";

export const ENGINE = "portcullis";

type FileData = Extract<ContentData, { kind: "file" }>;
type Md5sums = Extract<ContentData, { kind: "md5sums" }>;
type Status = Extract<ContentData, { kind: "dpkg-status" }>;
type Digests = Extract<ContentData, { kind: "package-digests" }>;
type Algo = Digests["packages"][number]["algo"];

interface SeenFile extends FileData {
  layer: string;
  path: string;
}

/** What a package says a file should hash to: its md5sums entry, a conffile in `status`, apk's or rpm's digest. */
interface Expected {
  package: string;
  algo: Algo;
  digest: string;
  conffile: boolean;
}

/** The file's digest in `algo`, when the content analyzer took it (SHA-1 and SHA-256 only for likely subjects). */
function digestOf(file: FileData, algo: Algo): string | undefined {
  return algo === "md5"
    ? file.md5
    : algo === "sha1"
      ? file.sha1
      : algo === "sha256"
        ? file.sha256
        : undefined;
}

const shipped = (file: FileData, owner: Expected | undefined) =>
  owner !== undefined && digestOf(file, owner.algo) === owner.digest;

// bookworm's packages still name /bin, /lib …; merged-/usr images store those files under usr/
const MERGED = /^(?:bin|sbin|lib|lib32|lib64|libx32)\//;
const canonical = (path: string) => (MERGED.test(path) ? `usr/${path}` : path);

/**
 * The image-level half of the content engine, run over every layer's data (base first): the dpkg
 * integrity cross-check (files against md5sums, `status` versions against the layers that wrote
 * the packages), persistence entries no package ships, and secrets outside unmodified packaged files.
 */
export function contentFindings(layers: readonly LayerData[]): ContentFact {
  const files = new Map<string, SeenFile>();
  const written = new Map<string, Set<string>>();
  const md5sums: { layer: string; path: string; record: Md5sums }[] = [];
  const statuses: { layer: string; record: Status; sha256?: string; survives: boolean }[] = [];
  const digests: { layer: string; path: string; record: Digests }[] = [];
  const everyDigests: { layer: string; path: string; record: Digests }[] = [];
  const tasks: { layer: string; path: string; sha256?: string; task: ScheduledTask }[] = [];
  const unscanned = new Map<string, { count: number; error: string }>();
  const unreadPe: { layer: string; path: string; error: string }[] = [];
  const unreadElf: { layer: string; path: string; error: string }[] = [];
  const yaraGaps = new Map<string, { paths: string[]; timedOut: number }>();
  const hives: { layer: string; entries: Extract<ContentData, { kind: "hive-persistence" }>["entries"] }[] =
    [];
  for (const { layer, path, data, survives } of layers) {
    const parsed = ContentDataSchema.array().safeParse(data);
    if (!parsed.success) continue;
    (written.get(layer) ?? written.set(layer, new Set()).get(layer)!).add(path);
    let sha256: string | undefined;
    for (const item of parsed.data) {
      if (item.kind === "file") {
        sha256 = item.sha256;
        if (item.clamav?.error !== undefined) {
          const seen = unscanned.get(layer) ?? { count: 0, error: item.clamav.error };
          unscanned.set(layer, { ...seen, count: seen.count + 1 });
        }
        if (item.peError !== undefined && survives) unreadPe.push({ layer, path, error: item.peError });
        if (item.yaraError !== undefined) {
          const gap = yaraGaps.get(layer) ?? { paths: [], timedOut: 0 };
          gap.paths.push(path);
          if (item.yaraError.includes("timed out after")) gap.timedOut++;
          yaraGaps.set(layer, gap);
        }
        if (item.elfError !== undefined && survives) unreadElf.push({ layer, path, error: item.elfError });
        if (survives) files.set(canonical(path), { ...item, layer, path });
      } else if (item.kind === "hive-persistence") {
        // every layer's delta counts, base first: a hive file's later copies do not replace its changes
        hives.push({ layer, entries: item.entries });
      } else if (item.kind === "md5sums") {
        if (survives) md5sums.push({ layer, path, record: item });
      } else if (item.kind === "scheduled-task") {
        if (survives) tasks.push({ layer, path, ...(sha256 ? { sha256 } : {}), task: item });
      } else if (item.kind === "package-digests") {
        // apk and rpm rewrite their database on every install: the surviving one is the installed state
        if (survives) digests.push({ layer, path, record: item });
        everyDigests.push({ layer, path, record: item });
      } else statuses.push({ layer, record: item, ...(sha256 ? { sha256 } : {}), survives });
    }
  }

  const expected = new Map<string, Expected>();
  for (const { record } of md5sums)
    for (const [path, md5] of record.files)
      expected.set(canonical(path), { package: record.package, algo: "md5", digest: md5, conffile: false });
  for (const { record } of digests)
    for (const pkg of record.packages)
      for (const [list, conffile] of [
        [pkg.files, false],
        [pkg.config ?? [], true],
      ] as const)
        for (const [path, digest] of list)
          expected.set(canonical(path), { package: pkg.name, algo: pkg.algo, digest, conffile });
  const finalStatus = statuses.filter((s) => s.survives).at(-1);
  for (const pkg of finalStatus?.record.packages ?? [])
    for (const [path, md5] of pkg.conffiles)
      expected.set(canonical(path), { package: pkg.name, algo: "md5", digest: md5, conffile: true });
  const checked = digestMismatches(digests, files);

  const findings = [
    ...malware(files),
    ...md5sumsMismatches(md5sums, files),
    ...checked.findings,
    ...editedDigestVersions(everyDigests, written),
    ...forgedVersions(statuses, written),
    ...persistence(files, expected, finalStatus !== undefined || digests.length > 0),
    ...hivePersistenceFindings(hives),
    ...scheduledTaskFindings(tasks),
    ...windowsBuildMismatches(
      hiveBuild(hives),
      [...files.values()].flatMap((f) =>
        // a core file with a version is always hashed (content-analyzer.ts): it may be a finding's subject
        f.fileVersion === undefined || f.sha256 === undefined
          ? []
          : [{ ...f, sha256: f.sha256, version: f.fileVersion }],
      ),
    ),
    ...secrets(files, expected),
  ];
  const warnings: ScanWarning[] = [...unscanned].map(([layer, { count, error }]) => ({
    code: "clamd-unavailable",
    message: `the second engine (clamd) could not scan ${count} file${count === 1 ? "" : "s"} of this layer, which were checked by portcullis's rules alone: ${error}`,
    layer,
  }));
  warnings.push(...checked.warnings);
  warnings.push(
    ...unreadableExecutables(
      { code: "pe-unreadable", kind: "a PE file" },
      unreadPe,
      (n) => `${n} more MZ files could not be analyzed as PE files`,
    ),
  );
  const unhashed = md5sums.flatMap(({ record }) =>
    record.files.filter(([path]) => {
      const file = files.get(canonical(path));
      return file !== undefined && file.md5 === undefined;
    }),
  );
  if (unhashed.length > 0)
    warnings.push({
      code: "content-integrity-unhashed",
      message: `${unhashed.length} files that packages list lie where packages install nothing (e.g. /${unhashed[0]![0]}); they are not hashed, so not checked against md5sums`,
    });
  for (const [layer, { paths, timedOut }] of yaraGaps)
    warnings.push({
      code: "yara-timeout",
      message: `the user's YARA rules gave no verdict on ${paths.length} file${paths.length === 1 ? "" : "s"} of this layer (${timedOut} timed out, the rest waited on a timed-out scan), e.g. /${paths[0]}; the shipped rules, portcullis's other checks and clamd still looked at them`,
      layer,
    });
  warnings.push(
    ...unreadableExecutables(
      { code: "elf-unreadable", kind: "an ELF file" },
      unreadElf,
      (n) => `${n} more ELF files could not be analyzed`,
    ),
  );
  findings.sort(compareContent);
  if (findings.length > MAX_FINDINGS) {
    // a hostile or mass-modified image must not make the stored inventory unbounded; blocking ones sort first
    warnings.push({
      code: "content-findings-truncated",
      message: `${findings.length} content findings; the first ${MAX_FINDINGS} are kept`,
    });
    findings.length = MAX_FINDINGS;
  }
  return { findings, ...(warnings.length > 0 ? { warnings } : {}) };
}

/** Unreadable-PE warnings named one by one per image. */
const MAX_PE_WARNINGS = 20;

/** Content findings kept per image. */
export const MAX_FINDINGS = 1000;

/**
 * The portcullis engine's rules (its own and YARA's) and clamd's signatures, merged per file: both
 * engines flagging the file is `confirmed`, one is `suspected`.
 */
function malware(files: Map<string, SeenFile>): ContentFinding[] {
  const out: ContentFinding[] = [];
  for (const file of files.values()) {
    const signature = file.clamav?.signature;
    const clamav = signature === undefined ? [] : [`ClamAV signature ${signature}`];
    const common = { path: `/${file.path}`, layer: file.layer, sha256: file.sha256 };
    const hits = new Map<
      string,
      { category: ContentFinding["category"]; title: string; evidence: string[] }
    >();
    for (const hit of file.malware ?? [])
      hits.set(hit.rule, {
        category: "malware",
        title: hit.title,
        evidence: [`portcullis rule ${hit.rule}`],
      });
    for (const signal of [...(file.pe ?? []), ...(file.elf ?? [])])
      hits.set(signal.rule, { category: signal.category, title: signal.title, evidence: signal.evidence });
    for (const hit of file.yara ?? []) {
      const yara = `YARA rule ${hit.rule}${hit.patterns.length > 0 ? `: ${hit.patterns.join(", ")}` : ""}`;
      const seen = hits.get(hit.rule);
      if (seen !== undefined) seen.evidence.push(yara);
      else hits.set(hit.rule, { category: hit.category, title: hit.title, evidence: [yara] });
    }
    for (const [rule, hit] of hits) {
      out.push({
        ...common,
        rule,
        category: hit.category,
        confidence: signature === undefined ? "suspected" : "confirmed",
        engines: signature === undefined ? [ENGINE] : [ENGINE, "clamav"],
        summary: `/${file.path} is ${hit.title}`,
        evidence: [...hit.evidence, ...clamav],
      });
    }
    if (signature !== undefined && hits.size === 0) {
      out.push({
        ...common,
        rule: "malware/clamav",
        category: "malware",
        confidence: "suspected",
        engines: ["clamav"],
        summary: `ClamAV reports ${signature} in /${file.path}`,
        evidence: clamav,
      });
    }
  }
  return out;
}

function finding(fields: Omit<ContentFinding, "confidence" | "engines" | "tier">): ContentFinding {
  return { ...fields, confidence: "suspected", engines: [ENGINE] };
}

/** debsums: a file a package lists whose content is not what the package installed. */
/**
 * One warning per executable whose headers could not be analyzed, the rest counted: the file was
 * still hashed, YARA-scanned and sent to clamd, so this is said, not fatal.
 */
function unreadableExecutables(
  { code, kind }: { code: "pe-unreadable" | "elf-unreadable"; kind: string },
  unread: readonly { layer: string; path: string; error: string }[],
  more: (count: number) => string,
): ScanWarning[] {
  const out: ScanWarning[] = unread.slice(0, MAX_PE_WARNINGS).map(({ layer, path, error }) => ({
    code,
    message: `/${path} could not be analyzed as ${kind}: ${error}`,
    layer,
  }));
  if (unread.length > MAX_PE_WARNINGS) out.push({ code, message: more(unread.length - MAX_PE_WARNINGS) });
  return out;
}

function md5sumsMismatches(
  md5sums: readonly { layer: string; path: string; record: Md5sums }[],
  files: Map<string, SeenFile>,
): ContentFinding[] {
  const out: ContentFinding[] = [];
  for (const { layer, path: listPath, record } of md5sums) {
    for (const [path, md5] of record.files) {
      const file = files.get(canonical(path));
      // a file the image deleted (docs in slim images) is not tampering; a too-large one was warned about
      if (file === undefined || file.md5 === md5) continue;
      // a place no package installs in is not hashed (file-digests.ts): counted, never called a mismatch
      if (file.md5 === undefined) continue;
      out.push(
        finding({
          rule: "integrity/dpkg-md5sums",
          category: "integrity",
          path: `/${file.path}`,
          layer: file.layer,
          sha256: file.sha256,
          summary: `/${file.path} is not the file package ${record.package} installed: the package database does not match the files`,
          evidence: [
            `/${listPath} (layer ${layer}) lists /${path} with MD5 ${md5}`,
            `the file in the image (layer ${file.layer}) has MD5 ${file.md5}`,
          ],
        }),
      );
    }
  }
  return out;
}

/**
 * apk's and rpm's own record of each file against the file (`apk audit`, `rpm -V`'s digest check).
 * A path several packages own (rpm multilib) is fine when any of them matches. A file whose digest in
 * the database's algorithm was not taken (a large data file: SHA-1/SHA-256 cost) is counted in a warning.
 */
function digestMismatches(
  digests: readonly { layer: string; path: string; record: Digests }[],
  files: Map<string, SeenFile>,
): { findings: ContentFinding[]; warnings: ScanWarning[] } {
  const owners = new Map<
    string,
    { package: string; algo: Algo; digest: string; db: string; layer: string }[]
  >();
  for (const { layer, path: db, record } of digests)
    for (const pkg of record.packages)
      for (const [path, digest] of pkg.files) {
        const key = canonical(path);
        (owners.get(key) ?? owners.set(key, []).get(key)!).push({
          package: pkg.name,
          algo: pkg.algo,
          digest,
          db,
          layer,
        });
      }
  const findings: ContentFinding[] = [];
  const unverified = new Map<string, number>();
  for (const [path, claims] of owners) {
    const file = files.get(path);
    // a file the image deleted (docs under tsflags=nodocs) is not tampering
    if (file === undefined) continue;
    const known = claims.filter((c) => digestOf(file, c.algo) !== undefined);
    if (known.length === 0) {
      const db = claims[0]!.db;
      unverified.set(db, (unverified.get(db) ?? 0) + 1);
      continue;
    }
    if (known.some((c) => digestOf(file, c.algo) === c.digest)) continue;
    const claim = known[0]!;
    const manager = /apk/.test(claim.db) ? "apk" : "rpm";
    findings.push(
      finding({
        rule: `integrity/${manager}-digest`,
        category: "integrity",
        path: `/${file.path}`,
        layer: file.layer,
        sha256: file.sha256,
        summary: `/${file.path} is not the file package ${claim.package} installed: the package database does not match the files`,
        evidence: [
          ...known.map(
            (c) =>
              `/${c.db} (layer ${c.layer}) records /${path} of ${c.package} with ${c.algo.toUpperCase()} ${c.digest}`,
          ),
          `the file in the image (layer ${file.layer}) has ${claim.algo.toUpperCase()} ${digestOf(file, claim.algo)}`,
        ],
      }),
    );
  }
  const warnings: ScanWarning[] = [];
  for (const { layer, path: db, record } of digests) {
    const count = unverified.get(db) ?? 0;
    const unreadable = record.unreadable ?? 0;
    if (count === 0 && unreadable === 0) continue;
    const parts = [
      ...(count > 0
        ? [
            `${count} file${count === 1 ? " it lists was" : "s it lists were"} not hashed in its digest algorithm (large data files; apk's SHA-1 in a layer that showed dpkg's marks alone)`,
          ]
        : []),
      ...(unreadable > 0 ? [`${unreadable} of its records or checksums could not be read`] : []),
    ];
    warnings.push({
      code: "integrity-unverified",
      message: `/${db}: ${parts.join("; ")}; those files were not checked against the package database`,
      layer,
    });
  }
  return { findings, warnings };
}

/**
 * apk's and rpm's version of `forgedVersions`: a package whose version changes between two copies of
 * the same database while the layer that wrote the new copy wrote none of the package's files (both
 * rewrite every file of a package they upgrade). The final database must still claim it.
 */
function editedDigestVersions(
  records: readonly { layer: string; path: string; record: Digests }[],
  written: Map<string, Set<string>>,
): ContentFinding[] {
  const out: ContentFinding[] = [];
  const previous = new Map<string, Map<string, string>>();
  const final = new Map<string, Map<string, string>>();
  for (const { path, record } of records)
    final.set(
      path,
      new Map(record.packages.flatMap((p) => (p.version ? [[p.name, p.version] as const] : []))),
    );
  for (const { layer, path, record } of records) {
    const before = previous.get(path);
    const paths = written.get(layer) ?? new Set<string>();
    for (const pkg of before === undefined ? [] : record.packages) {
      const was = before!.get(pkg.name);
      if (pkg.version === undefined || was === undefined || was === pkg.version) continue;
      if (final.get(path)?.get(pkg.name) !== pkg.version) continue;
      const files = [...pkg.files, ...(pkg.config ?? [])].map(([f]) => f);
      if (files.length === 0 || files.some((f) => paths.has(f))) continue;
      out.push(
        finding({
          rule: `integrity/${record.manager}-version`,
          category: "integrity",
          path: `/${path}`,
          layer,
          summary: `the package database claims ${pkg.name} ${pkg.version}, but the files installed are those of ${was}: the package database does not match the files`,
          evidence: [
            `/${path} in layer ${layer} changes ${pkg.name} from ${was} to ${pkg.version}`,
            `that layer writes none of the ${files.length} files the database lists for ${pkg.name} (${record.manager} rewrites them on every upgrade)`,
          ],
        }),
      );
    }
    previous.set(
      path,
      new Map(record.packages.flatMap((p) => (p.version ? [[p.name, p.version] as const] : []))),
    );
  }
  return out;
}

/**
 * A package whose version `status` changes in a layer that wrote none of the package's files: dpkg
 * rewrites `info/<pkg>.list` whenever it unpacks a package, so only an edit of `status` does this.
 */
function forgedVersions(
  statuses: readonly { layer: string; record: Status; sha256?: string; survives: boolean }[],
  written: Map<string, Set<string>>,
): ContentFinding[] {
  const out: ContentFinding[] = [];
  const final = statuses.filter((s) => s.survives).at(-1);
  if (final === undefined) return out;
  const finalVersion = new Map(final.record.packages.map((p) => [key(p), p.version]));
  let previous = new Map<string, string>();
  for (const { layer, record, sha256 } of statuses) {
    const paths = written.get(layer) ?? new Set<string>();
    for (const pkg of record.packages) {
      const before = previous.get(key(pkg));
      if (before === undefined || before === pkg.version) continue;
      const lists = [`var/lib/dpkg/info/${pkg.name}.list`, `var/lib/dpkg/info/${pkg.name}:${pkg.arch}.list`];
      if (lists.some((l) => paths.has(l))) continue;
      if (finalVersion.get(key(pkg)) !== pkg.version) continue;
      out.push(
        finding({
          rule: "integrity/dpkg-status-version",
          category: "integrity",
          path: `/${DPKG_STATUS}`,
          layer,
          ...(sha256 ? { sha256 } : {}),
          summary: `the package database claims ${pkg.name} ${pkg.version}, but the files installed are those of ${before}: the package database does not match the files`,
          evidence: [
            `/${DPKG_STATUS} in layer ${layer} changes ${pkg.name} from ${before} to ${pkg.version}`,
            `that layer writes no file of ${pkg.name} (dpkg rewrites /${lists[0]} on every install)`,
          ],
        }),
      );
    }
    previous = new Map(record.packages.map((p) => [key(p), p.version]));
  }
  return out;
}

const key = (p: { name: string; arch?: string }) => `${p.name}:${p.arch ?? ""}`;

/**
 * Files in persistence places that no installed package ships as they are. Without a dpkg database
 * nothing tells a packaged entry from a planted one, so only the always-suspicious places count.
 */
function persistence(
  files: Map<string, SeenFile>,
  expected: Map<string, Expected>,
  haveDpkg: boolean,
): ContentFinding[] {
  const out: ContentFinding[] = [];
  for (const file of files.values()) {
    const place = persistencePlace(file.path);
    if (place === undefined) continue;
    const owner = expected.get(canonical(file.path));
    const packaged = shipped(file, owner);
    if (!place.always && (packaged || !haveDpkg)) continue;
    out.push(
      finding({
        rule: place.rule,
        category: "persistence",
        path: `/${file.path}`,
        layer: file.layer,
        sha256: file.sha256,
        summary: `/${file.path} ${place.what}`,
        evidence: [
          owner === undefined
            ? "no installed package ships this file"
            : packaged
              ? `shipped by package ${owner.package}`
              : `package ${owner.package} ships it with ${owner.algo.toUpperCase()} ${owner.digest}; this one has ${digestOf(file, owner.algo) ?? "a digest that was not taken"}`,
        ],
      }),
    );
  }
  return out;
}

/** Secret hits, except in files exactly as an installed package shipped them. */
function secrets(files: Map<string, SeenFile>, expected: Map<string, Expected>): ContentFinding[] {
  const out: ContentFinding[] = [];
  for (const file of files.values()) {
    if (!file.secrets?.length) continue;
    if (shipped(file, expected.get(canonical(file.path)))) continue;
    const byRule = new Map<string, typeof file.secrets>();
    for (const hit of file.secrets) byRule.set(hit.rule, [...(byRule.get(hit.rule) ?? []), hit]);
    for (const [rule, hits] of byRule) {
      out.push(
        finding({
          rule,
          category: "secret",
          path: `/${file.path}`,
          layer: file.layer,
          sha256: file.sha256,
          summary: `${hits[0]!.title} in /${file.path}`,
          evidence: hits.map((h) => `line ${h.line}: ${h.title} (value withheld)`),
        }),
      );
    }
  }
  return out;
}

const CATEGORY_ORDER = ["malware", "integrity", "injection", "persistence", "secret"];

export function compareContent(a: ContentFinding, b: ContentFinding): number {
  return (
    CATEGORY_ORDER.indexOf(a.category) - CATEGORY_ORDER.indexOf(b.category) ||
    a.path.localeCompare(b.path) ||
    a.rule.localeCompare(b.rule)
  );
}
