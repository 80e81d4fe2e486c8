import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { EVENT_GRID_FUNCTION } from "../event-grid.js";
import { buildFunctionsPackage, productionPackages } from "../functions-package.js";
import { listZip, unzip } from "./unzip.js";

// What functions/ registers, read from the code itself by capturing its `app` calls.
const declared = vi.hoisted(() => [] as { kind: string; name: string; options: Record<string, unknown> }[]);
vi.mock("@azure/functions", () => {
  const record = (kind: string) => (name: string, options: Record<string, unknown>) => {
    declared.push({ kind, name, options });
  };
  return {
    app: {
      http: record("http"),
      eventGrid: record("eventGrid"),
      serviceBusQueue: record("serviceBusQueue"),
      timer: record("timer"),
      storageQueue: record("storageQueue"),
      storageBlob: record("storageBlob"),
    },
  };
});

const root = fileURLToPath(new URL("../../", import.meta.url));
const TRIGGER_OF: Record<string, string> = {
  http: "httpTrigger",
  eventGrid: "eventGridTrigger",
  serviceBusQueue: "serviceBusTrigger",
  timer: "timerTrigger",
  storageQueue: "queueTrigger",
  storageBlob: "blobTrigger",
};

const filesUnder = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)],
  );

/** The repository's dist/ if it is newer than every source it compiles from, else a fresh compile. */
function compiled(): string {
  const dist = join(root, "dist");
  const sources = ["functions", "shared"]
    .flatMap((d) => filesUnder(join(root, d)))
    .filter((f) => f.endsWith(".ts"));
  const fresh = sources.every((src) => {
    const out = join(dist, relative(root, src)).replace(/\.ts$/, ".js");
    return existsSync(out) && statSync(out).mtimeMs >= statSync(src).mtimeMs;
  });
  if (fresh) return dist;
  const out = mkdtempSync(join(tmpdir(), "portcullis-dist-"));
  execFileSync("npx", ["tsc", "-p", "tsconfig.build.json", "--outDir", out], { cwd: root, stdio: "inherit" });
  return out;
}

let zipPath: string;
let entries: string[];
let unpacked: string;

beforeAll(async () => {
  const distDir = compiled();
  // The zip is cached by what goes into it: a rerun with nothing changed reuses it.
  const key = createHash("sha256");
  for (const f of ["package.json", "package-lock.json", "host.json", "infra/functions-package.ts"])
    key.update(readFileSync(join(root, f)));
  for (const f of filesUnder(distDir).sort()) key.update(relative(distDir, f)).update(readFileSync(f));
  const cache = join(root, ".portcullis", "package-test", key.digest("hex").slice(0, 16));
  zipPath = join(cache, "functions.zip");
  unpacked = join(cache, "unpacked");
  if (!existsSync(join(cache, "unpacked.done"))) {
    // One cached package at a time: an older one is a few hundred MB of nothing.
    for (const old of existsSync(dirname(cache)) ? readdirSync(dirname(cache)) : [])
      rmSync(join(dirname(cache), old), { recursive: true, force: true });
    await buildFunctionsPackage({ root, distDir, out: zipPath });
    await unzip(zipPath, unpacked);
    writeFileSync(join(cache, "unpacked.done"), "");
  }
  entries = await listZip(zipPath);
  await import("../../functions/index.js");
}, 900_000);

describe("the Functions package `npm run deploy` publishes", () => {
  it("holds host.json, package.json, the compiled functions and shared code", () => {
    expect(entries).toContain("host.json");
    expect(readFileSync(join(unpacked, "host.json"), "utf8")).toBe(
      readFileSync(join(root, "host.json"), "utf8"),
    );
    const pkg = JSON.parse(readFileSync(join(unpacked, "package.json"), "utf8")) as {
      main: string;
      type: string;
    };
    expect(entries).toContain(pkg.main);
    expect(pkg.type).toBe("module");
    for (const src of filesUnder(join(root, "functions")).filter((f) => f.endsWith(".ts")))
      expect(entries).toContain(`dist/${relative(root, src).replace(/\.ts$/, ".js")}`);
  });

  it("holds every production dependency and no development one, as npm itself counts them", () => {
    // npm's own view of the installed tree, not the lockfile reading the package is built from.
    const npmLs = (...args: string[]) =>
      new Set(
        spawnSync("npm", ["ls", "--all", "--parseable", ...args], { cwd: root, encoding: "utf8" })
          .stdout.split("\n")
          .map((line) => relative(root, line.trim()))
          .filter((path) => path.startsWith("node_modules/")),
      );
    const production = npmLs("--omit=dev");
    const everything = npmLs();
    expect(production.size).toBeGreaterThan(0);
    const names = new Set(entries);
    for (const pkg of production) expect(names.has(`${pkg}/package.json`), pkg).toBe(true);
    const devOnly = [...everything].filter((pkg) => !production.has(pkg));
    expect(devOnly).toContain("node_modules/vitest");
    for (const pkg of devOnly) expect(names.has(`${pkg}/package.json`), pkg).toBe(false);
    // The lockfile reading agrees with npm.
    expect(new Set(productionPackages(root))).toEqual(production);
  });

  it("holds no tests", () => {
    expect(entries.filter((e) => /^(test|bench|infra)\//.test(e))).toEqual([]);
    expect(entries.filter((e) => e.startsWith("dist/") && /\.test\.js$/.test(e))).toEqual([]);
  });

  it("its entry point, loaded with only its own dependencies, registers every function functions/ declares", () => {
    expect(declared.length).toBeGreaterThan(0);
    // Stand in for the Functions host's worker API (`@azure/functions-core`, which the host injects)
    // and record what the package's own @azure/functions registers through it.
    const hook = join(unpacked, "..", "record-registrations.cjs");
    writeFileSync(
      hook,
      `const Module = require("node:module");
const registered = [];
const core = {
  registerFunction(metadata) { registered.push(metadata); return { dispose() {} }; },
  setProgrammingModel() {},
  registerHook() { return { dispose() {} }; },
  log() {},
};
const load = Module._load;
Module._load = function (request, ...rest) {
  return request === "@azure/functions-core" ? core : load.call(this, request, ...rest);
};
process.on("exit", () => process.stdout.write("REGISTERED " + JSON.stringify(registered) + "\\n"));
`,
    );
    const entry = pathToFileURL(join(unpacked, "dist/functions/index.js")).href;
    const run = spawnSync(
      process.execPath,
      ["--require", hook, "--input-type=module", "-e", `await import(${JSON.stringify(entry)});`],
      {
        cwd: unpacked,
        encoding: "utf8",
        env: { PATH: process.env.PATH ?? "" }, // no NODE_PATH, nothing of the repository's
      },
    );
    expect(run.stderr).not.toMatch(/Error/);
    const line = run.stdout.split("\n").find((l) => l.startsWith("REGISTERED "));
    expect(line, run.stdout + run.stderr).toBeDefined();
    const registered = JSON.parse(line!.slice("REGISTERED ".length)) as {
      name: string;
      bindings: Record<
        string,
        {
          type: string;
          direction: string;
          queueName?: string;
          connection?: string;
          schedule?: string;
          route?: string;
        }
      >;
    }[];
    const triggerOf = (r: (typeof registered)[number]) =>
      Object.values(r.bindings).find((b) => /Trigger$/.test(b.type))!;

    expect(registered.map((r) => r.name).sort()).toEqual(declared.map((d) => d.name).sort());
    for (const d of declared) {
      const r = registered.find((x) => x.name === d.name)!;
      const trigger = triggerOf(r);
      expect(trigger.type, d.name).toBe(TRIGGER_OF[d.kind]);
      for (const field of ["queueName", "connection", "schedule", "route"] as const)
        if (d.options[field] !== undefined)
          expect(trigger[field], `${d.name}.${field}`).toBe(d.options[field]);
    }
    // The Event Grid subscriptions infra/ creates point at a function the package really has.
    expect(registered.filter((r) => triggerOf(r).type === "eventGridTrigger").map((r) => r.name)).toContain(
      EVENT_GRID_FUNCTION,
    );
  });
});
