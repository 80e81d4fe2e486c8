// A second scan of the same image downloads no layer blob (counted on the wire), and what it costs
// as a fraction of the first: the real Distribution registry on 127.0.0.1, the real Debian test
// image, the CLI's own front half (collectInventories) run twice in-process on one cache dir.
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { collectInventories } from "../shared/cli/collect-inventories.js";
import type { ImageOptions } from "../shared/cli/image-options.js";
import { TransferStats } from "../shared/registry/transfer-stats.js";
import { buildDebianTestImage } from "../test/support/debian-image.js";
import { writeDockerConfig } from "../test/support/docker-config.js";
import { pushImage } from "../test/support/push-image.js";
import { startRegistry } from "../test/support/registry-server.js";

interface Run {
  seconds: number;
  packages: number;
  stats: ReturnType<TransferStats["snapshot"]>;
}

async function inventoryOnce(ref: string, options: ImageOptions): Promise<Run> {
  const stats = new TransferStats();
  const start = process.hrtime.bigint();
  const inventories = await collectInventories(ref, options, { stats });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return {
    seconds,
    packages: inventories.reduce((n, inv) => n + inv.packages.length, 0),
    stats: stats.snapshot(),
  };
}

const mib = (bytes: number) => `${(bytes / 1024 ** 2).toFixed(2)} MiB`;

function describeRun(name: string, run: Run): string {
  const s = run.stats;
  return (
    `${name}  ${run.seconds.toFixed(2)} s  packages ${run.packages}  ` +
    `requests ${s.requests} (manifests ${s.manifestRequests}, configs ${s.configRequests}, ` +
    `layer blobs ${s.blobRequests}, tokens ${s.tokenRequests}, retries ${s.retries})  ` +
    `blob streams opened ${s.blobsOpened}  blob bytes ${mib(s.blobBytes)}`
  );
}

const image = await buildDebianTestImage();
const registry = await startRegistry({ auth: "anonymous" });
const work = await mkdtemp(path.join(os.tmpdir(), "portcullis-bench-rescan-"));
// an empty Docker config: the bench must not pick up the machine's credentials
const dockerConfig = await writeDockerConfig();
process.env.DOCKER_CONFIG = dockerConfig;
try {
  const ref = `${registry.host}/portcullis/debian:bookworm`;
  await pushImage(image.ociAmd64Ref, ref);
  const options: ImageOptions = { insecureRegistry: [registry.host], cacheDir: path.join(work, "cache") };

  const first = await inventoryOnce(ref, options);
  const second = await inventoryOnce(ref, options);
  const layerBytes = image.layers.reduce((n, l) => n + l.size, 0);

  console.log(`image ${ref}: ${image.layers.length} layers, ${mib(layerBytes)} compressed`);
  console.log(describeRun("first scan (empty cache) ", first));
  console.log(describeRun("second scan (same cache) ", second));
  const noLayerBlobs = second.stats.blobRequests === 0;
  console.log(
    `second scan layer blob downloads: ${second.stats.blobRequests} (target 0) ${noLayerBlobs ? "ok" : "MISSED"}; ` +
      `blob streams opened ${second.stats.blobsOpened} (image configs: ${second.stats.configRequests})`,
  );
  console.log(
    `second scan time as a fraction of the first: ${(second.seconds / first.seconds).toFixed(3)} ` +
      `(${second.seconds.toFixed(2)} s / ${first.seconds.toFixed(2)} s)`,
  );
  if (second.packages !== first.packages) {
    console.log(`MISSED: the cached scan found ${second.packages} packages, the first ${first.packages}`);
    process.exitCode = 1;
  }
  if (!noLayerBlobs) process.exitCode = 1;
} finally {
  await registry.stop();
  await rm(work, { recursive: true, force: true });
  await rm(dockerConfig, { recursive: true, force: true });
}
