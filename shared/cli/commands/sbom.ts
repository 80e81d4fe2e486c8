import type { Command } from "commander";

// Placeholder until the owning change lands: the command exists so `--help` lists it.
export function registerSbom(program: Command): void {
  program.command("sbom").description("(not yet implemented)").action(() => {
    throw new Error("sbom is not implemented yet");
  });
}
