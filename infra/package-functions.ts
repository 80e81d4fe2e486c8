// `npm run package`: compiles nothing itself — run after `npm run build` — and zips the Functions app.
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { buildFunctionsPackage, DEFAULT_PACKAGE_PATH } from "./functions-package.js";

const { values } = parseArgs({ options: { policy: { type: "string" }, out: { type: "string" } } });
const root = fileURLToPath(new URL("..", import.meta.url));
const built = await buildFunctionsPackage({
  root,
  distDir: `${root}dist`,
  out: values.out ?? fileURLToPath(DEFAULT_PACKAGE_PATH),
  ...(values.policy ? { policyFile: values.policy } : {}),
});
console.log(`${built.path} (sha256 ${built.sha256})`);
