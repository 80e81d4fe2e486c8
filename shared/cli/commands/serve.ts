import type { Command } from "commander";

// Placeholder until the owning change lands: the command exists so `--help` lists it.
export function registerServe(program: Command): void {
  program.command("serve").description("(not yet implemented)").action(() => {
    throw new Error("serve is not implemented yet");
  });
}
