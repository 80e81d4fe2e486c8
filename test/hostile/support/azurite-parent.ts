// Run in a child process (tsx): starts Azurite on a data dir, prints its pid, and waits to be killed.
import { startAzurite } from "../../../shared/local/azurite.js";

const azurite = await startAzurite({ dataDir: process.argv[2] ?? "" });
process.stdout.write(`${JSON.stringify({ pid: azurite.pid, blobUrl: azurite.blobUrl })}\n`);
setInterval(() => {}, 60_000);
