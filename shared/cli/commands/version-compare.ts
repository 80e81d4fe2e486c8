import type { Command } from "commander";

// Placeholder until the owning change lands: the command exists so `--help` lists it.
export function registerVersionCompare(program: Command): void {
  program.command("version-compare").description("(not yet implemented)").action(() => {
    throw new Error("version-compare is not implemented yet");
  });
}
