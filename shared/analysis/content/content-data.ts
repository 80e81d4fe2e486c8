import { z } from "zod";

const Hex = z.string().regex(/^[0-9a-f]+$/);

/** A secret rule's hit, as stored in the layer report: the rule and the line, never the text. */
export const SecretHitSchema = z.object({ rule: z.string(), title: z.string(), line: z.number().int() });

/** What the content analyzer keeps per file in a layer report (and so in the layer cache). */
/** pe-analysis.ts's and elf-analysis.ts's signals on an executable: the rule, its reason and evidence */
const ExecutableSignals = z
  .array(
    z.object({
      rule: z.string(),
      category: z.enum(["malware", "injection"]),
      title: z.string(),
      evidence: z.array(z.string()),
    }),
  )
  .optional();

export const ContentDataSchema = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("file"),
    /** absent where no package installs files (file-digests.ts: usr/local, home, srv, caches …) */
    md5: Hex.optional(),
    /** only for executables, scripts, persistence places, the dpkg database and rule hits (hashing cost) */
    sha256: Hex.optional(),
    /** SHA-1 where the SHA-256 is taken: apk's installed database records files by it */
    sha1: Hex.optional(),
    secrets: z.array(SecretHitSchema).optional(),
    /** the portcullis engine's own malware rules that matched */
    malware: z.array(z.object({ rule: z.string(), title: z.string() })).optional(),
    /** the YARA rules that matched (shipped and the user's): pattern names and offsets, never bytes */
    yara: z
      .array(
        z.object({
          rule: z.string(),
          category: z.enum(["malware", "injection", "persistence", "secret", "integrity"]),
          title: z.string(),
          patterns: z.array(z.string()),
        }),
      )
      .optional(),
    /** why the user's YARA rules gave no verdict on this file (their scan timed out, or waited on one that did) */
    yaraError: z.string().optional(),
    /** pe-analysis.ts's signals on a Windows executable (imports, packing, location) */
    pe: ExecutableSignals,
    /** elf-analysis.ts's signals on a Linux executable (UPX, packed code, drop location) */
    elf: ExecutableSignals,
    /** why an ELF file's headers could not be read (truncated, bogus tables) */
    elfError: z.string().optional(),
    /** FileVersion of a core system file (ntoskrnl.exe, kernel32.dll, ntdll.dll), for the build cross-check */
    fileVersion: z.string().optional(),
    /** why an MZ file could not be analyzed as a PE (truncated, bogus section table) */
    peError: z.string().optional(),
    /** clamd's answer for this file: the signature it found, or why it could not scan it */
    clamav: z.object({ signature: z.string().optional(), error: z.string().optional() }).optional(),
  }),
  /** a Windows hive (delta)'s autostart values: Run/RunOnce, Winlogon, IFEO debuggers, service images */
  z.object({
    kind: z.literal("hive-persistence"),
    entries: z.array(z.object({ key: z.string(), value: z.string(), data: z.string() })),
  }),
  /** `var/lib/dpkg/info/<pkg>.md5sums`: the package's files (no leading slash) and their MD5 */
  z.object({ kind: z.literal("md5sums"), package: z.string(), files: z.array(z.tuple([z.string(), Hex])) }),
  /** `var/lib/dpkg/status`: each installed package's version and its conffiles' MD5 */
  z.object({
    kind: z.literal("dpkg-status"),
    packages: z.array(
      z.object({
        name: z.string(),
        arch: z.string().optional(),
        version: z.string(),
        conffiles: z.array(z.tuple([z.string(), Hex])),
      }),
    ),
  }),
  /** apk's `installed` or the rpm database: each package's files and their digests (config files apart) */
  z.object({
    kind: z.literal("package-digests"),
    manager: z.enum(["apk", "rpm"]),
    packages: z.array(
      z.object({
        name: z.string(),
        /** apk's V:, rpm's [EPOCH:]VERSION-RELEASE: a version change no file write explains is an edit */
        version: z.string().optional(),
        algo: z.enum(["md5", "sha1", "sha256", "sha384", "sha512"]),
        files: z.array(z.tuple([z.string(), Hex])),
        /** rpm %config files and apk's protected etc/: edited by users, so only vouched for when unchanged */
        config: z.array(z.tuple([z.string(), Hex])).optional(),
      }),
    ),
    /** headers or checksum lines that could not be read (the rpm analyzer warns about the database) */
    unreadable: z.number().int().optional(),
  }),
  /** a task definition under Windows\System32\Tasks: what it runs, when, hidden or not, as whom */
  z.object({
    kind: z.literal("scheduled-task"),
    name: z.string(),
    actions: z.array(z.object({ command: z.string(), arguments: z.string().optional() })),
    triggers: z.array(z.string()),
    hidden: z.boolean(),
    runAs: z.string().optional(),
  }),
]);
export type ContentData = z.infer<typeof ContentDataSchema>;
