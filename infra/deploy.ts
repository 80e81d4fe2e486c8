// `npm run deploy` (pulumi up) and `npm run infra:preview` (pulumi preview): build, package, then Pulumi.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { buildFunctionsPackage, DEFAULT_PACKAGE_PATH } from "./functions-package.js";
import { ScanError } from "../shared/model/errors.js";

const [mode = "up", ...pulumiArgs] = process.argv.slice(2);
if (mode !== "up" && mode !== "preview")
  throw new ScanError("deploy-not-ready", `usage: deploy.ts up|preview [pulumi options]`);
const root = fileURLToPath(new URL("..", import.meta.url));
const infra = fileURLToPath(new URL(".", import.meta.url));

function run(command: string, args: string[], cwd: string): void {
  const result = spawnSync(command, args, { cwd, stdio: "inherit" });
  if (result.error)
    throw new ScanError(
      "deploy-not-ready",
      `${command}: ${result.error.message} (is it installed and on PATH?)`,
    );
  if (result.status !== 0) process.exit(result.status ?? 1);
}

run("npm", ["run", "build"], root);
// The stack may name a policy file to ship with the app (`portcullis:policyFile`, repository-relative).
const policy = spawnSync("pulumi", ["config", "get", "portcullis:policyFile", "--cwd", infra], {
  encoding: "utf8",
});
if (policy.error)
  throw new ScanError("deploy-not-ready", `pulumi: ${policy.error.message} (install the Pulumi CLI)`);
const policyFile = policy.status === 0 && policy.stdout.trim() ? `${root}${policy.stdout.trim()}` : undefined;
const built = await buildFunctionsPackage({
  root,
  distDir: `${root}dist`,
  out: fileURLToPath(DEFAULT_PACKAGE_PATH),
  ...(policyFile ? { policyFile } : {}),
});
console.log(`packaged ${built.path} (sha256 ${built.sha256})`);
run("pulumi", [mode, "--cwd", infra, ...pulumiArgs], root);
