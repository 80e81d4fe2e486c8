import type { Command } from "commander";
import type { Inventory } from "../../model/report.js";
import { inventoryToCycloneDx } from "../../sbom/cyclonedx.js";
import { collectInventories } from "../collect-inventories.js";
import { addImageOptions, type ImageOptions } from "../image-options.js";
import { UsageError } from "../usage-error.js";

const FORMATS = ["json", "cyclonedx-json"] as const;

/** The `image` + `packages` part of the report contract, one object per platform image. */
export function sbomJson(inv: Inventory) {
  return { schemaVersion: 1, image: inv.image, packages: inv.packages, warnings: inv.warnings };
}

export function registerSbom(program: Command): void {
  addImageOptions(
    program
      .command("sbom")
      .description("list the packages installed in an image (JSON or CycloneDX 1.6)")
      .argument(
        "<image>",
        "registry/repo[:tag|@digest], oci:<dir>[:tag], oci-archive:<file>[:tag], docker-archive:<file>",
      )
      .option("-f, --format <format>", `output format: ${FORMATS.join(", ")}`, "json"),
  ).action(async (image: string, opts: ImageOptions & { format: string }) => {
    if (!(FORMATS as readonly string[]).includes(opts.format))
      throw new UsageError(`--format must be one of ${FORMATS.join(", ")}`);
    const inventories = await collectInventories(image, opts);
    for (const inv of inventories)
      for (const w of inv.warnings) process.stderr.write(`warning: ${w.message}\n`);
    if (opts.format === "cyclonedx-json") {
      process.stdout.write(`${inventoryToCycloneDx(inventories)}\n`);
      return;
    }
    const docs = inventories.map(sbomJson);
    process.stdout.write(`${JSON.stringify(docs.length === 1 ? docs[0] : docs, null, 2)}\n`);
  });
}
