import { Command, CommanderError } from "commander";
import type { ErrorCode } from "../model/error-codes.js";
import { ScanError } from "../model/errors.js";
import { registerDb } from "./commands/db.js";
import { registerRescan } from "./commands/rescan.js";
import { registerSbom } from "./commands/sbom.js";
import { registerScan } from "./commands/scan.js";
import { registerServe } from "./commands/serve.js";
import { registerTrack } from "./commands/track.js";
import { registerVersionCompare } from "./commands/version-compare.js";
import { UsageError } from "./usage-error.js";

/** Errors in what the user typed (a malformed reference or platform): exit 2, like other usage errors. */
const USAGE_CODES: ReadonlySet<ErrorCode> = new Set(["invalid-reference", "invalid-platform"]);

export function buildProgram(): Command {
  const program = new Command("portcullis")
    .description("Container-image vulnerability scanner for Linux and Windows images")
    .version("0.1.0")
    .exitOverride()
    .showHelpAfterError()
    .configureOutput({ writeErr: (s) => process.stderr.write(s), writeOut: (s) => process.stdout.write(s) });
  registerSbom(program);
  registerScan(program);
  registerDb(program);
  registerVersionCompare(program);
  registerServe(program);
  registerTrack(program);
  registerRescan(program);
  for (const cmd of program.commands) cmd.exitOverride();
  return program;
}

/** Runs the CLI; resolves to the process exit code (0 ok, 1 scan failure, 2 usage, N on a block verdict). */
export async function main(argv: string[]): Promise<number> {
  exitQuietlyOnBrokenPipe();
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === "commander.helpDisplayed" || err.code === "commander.version" || err.exitCode === 0)
        return 0;
      return 2;
    }
    if (err instanceof UsageError || (err instanceof ScanError && USAGE_CODES.has(err.code))) {
      process.stderr.write(`portcullis: ${err.message}\n`);
      return 2;
    }
    const reason =
      err instanceof ScanError ? `${err.message}` : err instanceof Error ? err.message : String(err);
    process.stderr.write(`portcullis: ${reason.split("\n")[0]}\n`);
    if (process.env.PORTCULLIS_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
    return 1;
  }
}

/**
 * `portcullis sbom … | head`: a reader that stops early is not a failure of ours. Without a listener
 * the EPIPE is an unhandled 'error' event and Node prints a stack trace; stop quietly instead.
 */
function exitQuietlyOnBrokenPipe(): void {
  process.stdout.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") process.exit(typeof process.exitCode === "number" ? process.exitCode : 0);
    process.stderr.write(`portcullis: writing the output failed: ${err.message}\n`);
    process.exit(1);
  });
}
