import type { Command } from "commander";

// Placeholder until the owning change lands: the command exists so `--help` lists it.
export function registerScan(program: Command): void {
  program.command("scan").description("(not yet implemented)").action(() => {
    throw new Error("scan is not implemented yet");
  });
}
