import type { Command } from "commander";

// Placeholder until the owning change lands: the command exists so `--help` lists it.
export function registerDb(program: Command): void {
  program.command("db").description("(not yet implemented)").action(() => {
    throw new Error("db is not implemented yet");
  });
}
