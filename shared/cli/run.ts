// Runs the CLI from source (tests, `tsx`); the published entry point is bin/portcullis.js.
import { main } from "./main.js";

process.exitCode = await main(process.argv);
