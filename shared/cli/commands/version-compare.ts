import { createInterface } from "node:readline";
import type { Command } from "commander";
import { versioningFor, versionings } from "../../vulndb/versioning/index.js";
import type { Versioning } from "../../vulndb/versioning/versioning.js";
import { UsageError } from "../usage-error.js";

interface VersionCompareOptions {
  stdin?: boolean;
}

function answer(scheme: Versioning, a: string, b: string): string {
  const d = scheme.compare(a, b);
  return d < 0 ? "<" : d > 0 ? ">" : "=";
}

/** Like dpkg --compare-versions: a version the scheme would refuse is still compared, with a warning. */
function warnInvalid(scheme: Versioning, versions: string[], where = ""): void {
  for (const v of versions) {
    if (!scheme.isValid(v))
      process.stderr.write(
        `portcullis: warning: ${where}${JSON.stringify(v)} is not a valid ${scheme.id} version\n`,
      );
  }
}

async function compareStdin(scheme: Versioning): Promise<void> {
  const lines = createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY });
  let lineNo = 0;
  let failed = 0;
  let out: string[] = [];
  for await (const raw of lines) {
    lineNo++;
    const line = raw.trim();
    if (line === "") continue;
    const fields = line.split(/\s+/);
    if (fields.length !== 2) {
      failed++;
      process.stderr.write(
        `portcullis: line ${lineNo}: expected "<a> <b>", got ${JSON.stringify(raw.slice(0, 200))}\n`,
      );
      continue;
    }
    const [a, b] = fields as [string, string];
    warnInvalid(scheme, [a, b], `line ${lineNo}: `);
    out.push(answer(scheme, a, b));
    if (out.length >= 1024) {
      process.stdout.write(`${out.join("\n")}\n`);
      out = [];
    }
  }
  if (out.length > 0) process.stdout.write(`${out.join("\n")}\n`);
  if (failed > 0) {
    process.stderr.write(`portcullis: ${failed} malformed line${failed === 1 ? "" : "s"} skipped\n`);
    process.exitCode = 1;
  }
}

export function registerVersionCompare(program: Command): void {
  program
    .command("version-compare")
    .description("compare two versions under an ecosystem's rules; prints <, = or >")
    .argument("<ecosystem>", "OSV ecosystem name, e.g. Debian:12, Alpine:v3.20, npm, PyPI, Windows")
    .argument("[a]", "first version")
    .argument("[b]", "second version")
    .option("--stdin", "read `a b` pairs from standard input, one per line, and answer one per line")
    .action(
      async (
        ecosystem: string,
        a: string | undefined,
        b: string | undefined,
        options: VersionCompareOptions,
      ) => {
        const scheme = versioningFor(ecosystem);
        if (!scheme) {
          const known = [...versionings.values()].flatMap((v) => v.ecosystems).join(", ");
          throw new UsageError(`unknown ecosystem ${JSON.stringify(ecosystem)} (known: ${known})`);
        }
        if (options.stdin) {
          if (a !== undefined) throw new UsageError("version-compare --stdin takes no versions as arguments");
          await compareStdin(scheme);
          return;
        }
        if (a === undefined || b === undefined) {
          throw new UsageError("version-compare needs two versions (or --stdin)");
        }
        warnInvalid(scheme, [a, b]);
        process.stdout.write(`${answer(scheme, a, b)}\n`);
      },
    );
}
