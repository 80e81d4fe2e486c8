// The content engine's rules and parsers on their own: precision on near misses, hostile input bounded.
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { contentFindings, MAX_FINDINGS } from "../../../shared/analysis/content/content-findings.js";
import {
  md5sumsPackage,
  parseMd5sums,
  parseStatusForIntegrity,
} from "../../../shared/analysis/content/dpkg-records.js";
import { findMalware } from "../../../shared/analysis/content/malware-rules.js";
import { persistencePlace } from "../../../shared/analysis/content/persistence-paths.js";
import { analyzeLayer } from "../../../shared/analysis/analyze-layer.js";
import { createContentAnalyzer } from "../../../shared/analysis/content/content-analyzer.js";
import {
  findSecrets,
  MAX_SECRET_SCAN_BYTES,
  SECRET_RULES,
  secretsSearched,
} from "../../../shared/analysis/content/secret-rules.js";
import { DEFAULT_LIMITS } from "../../../shared/model/limits.js";
import { layerBlob, streamOf } from "../layers.js";

const pem = () =>
  generateKeyPairSync("ec", { namedCurve: "P-256" })
    .privateKey.export({ type: "pkcs8", format: "pem" })
    .toString();

describe("secret rules", () => {
  it("finds a real private key and says only where", () => {
    const key = pem();
    const hits = findSecrets(Buffer.from(`# deploy key\n${key}`));
    expect(hits).toEqual([{ rule: "secret/private-key", title: "private key block", line: 2 }]);
    expect(JSON.stringify(hits)).not.toContain(key.split("\n")[1]);
  });

  it("finds each provider's token shape, on the line it is on (the keyword pass lets every rule through)", () => {
    // made at test time from random characters: shaped like real tokens, valid for no account
    const pick = (alphabet: string, n: number) =>
      Array.from(randomBytes(n), (b) => alphabet[b % alphabet.length]).join("");
    const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    const tokens: [string, string][] = [
      ["secret/aws-access-key-id", `AKIA${pick("ABCDFGHIJKLMNOPQRSTUVWYZ234567", 16)}`],
      ["secret/github-token", `ghp_${pick(ALNUM, 36)}`],
      ["secret/github-token", `github_pat_${pick(ALNUM, 82)}`],
      ["secret/gitlab-token", `glpat-${pick(ALNUM, 20)}`],
      ["secret/slack-token", `xoxb-${pick("0123456789", 12)}-${pick("0123456789", 12)}-${pick(ALNUM, 24)}`],
      ["secret/stripe-secret-key", `sk_live_${pick(ALNUM, 24)}`],
      ["secret/google-api-key", `AIza${pick(ALNUM, 35)}`],
      ["secret/azure-storage-key", `AccountName=x;AccountKey=${pick(`${ALNUM}+/`, 86)}==`],
    ];
    for (const [i, [rule, token]] of tokens.entries()) {
      const text = `# config\nother = 1\nkey = "${token}"\n`;
      expect([i, findSecrets(Buffer.from(text))]).toEqual([i, [expect.objectContaining({ rule, line: 3 })]]);
      // short of the shape (the Slack token's first number too short): not a secret
      const short = rule.includes("slack")
        ? text.replace(/xoxb-\d+/, "xoxb-123")
        : text.replace(token, token.slice(0, -3) + (rule.includes("azure") ? "=" : ""));
      expect([i, findSecrets(Buffer.from(short))]).toEqual([i, []]);
    }
  });

  it("ignores near misses: a bare PEM header, the documented AWS example key, short or embedded tokens", () => {
    const text = [
      'const HEADER = "-----BEGIN RSA PRIVATE KEY-----";',
      "-----BEGIN PRIVATE KEY-----\nshort\n-----END PRIVATE KEY-----",
      "aws_access_key_id = AKIAIOSFODNN7EXAMPLE",
      "id: AKIA1234",
      "x9AKIAABCDEFGHIJKLMNOPQR9", // inside a longer base64-ish word
      "token ghp_tooShort",
      "sk_test_4eC39HqLyjWDarjtT1zdp7dc", // Stripe test keys are not secrets
    ].join("\n");
    expect(findSecrets(Buffer.from(text))).toEqual([]);
  });

  it("does not search binaries or files over the size bound", () => {
    const key = pem();
    expect(findSecrets(Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0]), Buffer.from(key)]))).toEqual(
      [],
    );
    const big = Buffer.concat([Buffer.alloc(MAX_SECRET_SCAN_BYTES, 0x20), Buffer.from(key)]);
    expect(findSecrets(big)).toEqual([]);
  });

  it("finds what each rule's regex finds over the whole file, though it reads only the text around keywords", () => {
    // the reference: every rule whose keyword the file holds, its regex over all of the text
    const wholeText = (text: string) =>
      SECRET_RULES.filter((r) => r.keywords.some((k) => text.includes(k))).flatMap((r) =>
        [...text.matchAll(r.pattern)]
          .filter((m) => !r.allow?.test(m[0]))
          .map((m) => ({ rule: r.id, title: r.title, line: text.slice(0, m.index).split("\n").length })),
      );
    const pick = (alphabet: string, n: number) =>
      Array.from(randomBytes(n), (b) => alphabet[b % alphabet.length]).join("");
    const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    const pieces = [
      () => `AKIA${pick("ABCDFGHIJKLMNOPQRSTUVWYZ234567", 16)}`,
      () => `ghp_${pick(ALNUM, 36)}`,
      () => `xoxb-${pick("0123456789", 12)}-${pick("0123456789", 12)}-${pick(ALNUM, 30)}`,
      () => `sk_live_${pick(ALNUM, 40)}`,
      () => `AccountKey=${pick(`${ALNUM}+/`, 86)}==`,
      () => pem(),
      () => "AKIA near miss, ASIA and ACCA in prose, ghp_short, -----BEGIN PRIVATE KEY-----",
      () => pick(`${ALNUM} \n`, 2000),
      () => "x".repeat(300),
    ];
    for (let doc = 0; doc < 40; doc++) {
      const parts = Array.from(randomBytes(12), (b) => pieces[b % pieces.length]!());
      // more keyword hits than the keyword pass reports offsets for: the rule reads the whole file
      if (doc % 10 === 0) parts.unshift("ASIA ".repeat(100));
      const text = parts.join(randomBytes(1)[0]! % 2 ? "\n" : " ");
      const key = (h: { rule: string; line: number }) => `${h.rule}:${h.line}`;
      expect(findSecrets(Buffer.from(text, "latin1")).map(key).sort()).toEqual(
        wholeText(text).map(key).sort(),
      );
    }
  });

  it("searches everywhere but the system directories packages install into (as Trivy), web roots and key files there included", async () => {
    for (const path of [
      "etc/app/config.yaml",
      "root/.aws/credentials",
      "opt/app/settings.py",
      "usr/local/lib/app/.env",
      "srv/app/.env.production",
      "usr/share/nginx/html/app.js",
      "usr/lib/app/tls/server.key",
      "usr/share/app/key.pem",
      "usr/lib/app/.env",
    ])
      expect([path, secretsSearched(path)]).toEqual([path, true]);
    for (const path of [
      "usr/share/perl/5.36.0/unicore/Name.pl",
      "usr/lib/x86_64-linux-gnu/perl/5.36.0/CORE/uni_keywords.h",
      "usr/include/openssl/pem.h",
      "usr/share/doc/openssl/README",
    ])
      expect([path, secretsSearched(path)]).toEqual([path, false]);
    // the content engine asks before it searches
    const key = pem();
    const names = ["usr/share/doc/app/key.txt", "usr/share/nginx/html/key.txt", "usr/lib/app/server.key"];
    const blob = await layerBlob(names.map((name) => ({ name, content: key })));
    const report = await analyzeLayer(streamOf(blob.bytes), blob.ref, {
      analyzers: [createContentAnalyzer({ parts: { rules: true, integrity: false } })],
      limits: DEFAULT_LIMITS,
    });
    const found = report.files
      .filter((f) => (f.output.data as { secrets?: unknown[] }[])[0]!.secrets !== undefined)
      .map((f) => f.path);
    expect(found.sort()).toEqual(["usr/lib/app/server.key", "usr/share/nginx/html/key.txt"]);
  });

  it("stays linear on adversarial text: a header followed by megabytes of base64 and no footer", () => {
    const hostile = Buffer.from(`-----BEGIN PRIVATE KEY-----\n${"A".repeat(3 * 1024 * 1024)}`);
    expect(findSecrets(hostile)).toEqual([]);
    // headers and keywords every few bytes: each byte becomes text at most once per rule
    const dense = Buffer.from("-----BEGIN PRIVATE KEY-----\nAKIA ".repeat(100_000));
    expect(findSecrets(dense)).toEqual([]);
  });
});

describe("malware rules", () => {
  const eicar = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";
  it("matches the EICAR file as EICAR defines it, and nothing that merely quotes it", () => {
    expect(findMalware(Buffer.from(`${eicar}\r\n`)).map((h) => h.rule)).toEqual(["malware/eicar-test-file"]);
    expect(findMalware(Buffer.from(`echo '${eicar}'`))).toEqual([]);
    expect(findMalware(Buffer.from(`${eicar} and more`))).toEqual([]);
    expect(findMalware(Buffer.from(eicar + " ".repeat(100)))).toEqual([]);
  });
});

describe("dpkg records", () => {
  it("reads md5sums as debsums does and skips malformed lines", () => {
    const text = [
      "d41d8cd98f00b204e9800998ecf8427e  usr/bin/true",
      "not a line",
      "D41D8CD98F00B204E9800998ECF8427E  usr/bin/upper", // dpkg writes lower case
      "0123456789abcdef0123456789abcdef  usr/share/doc/x y/README", // spaces in names
      "",
      "\u0000\u0001garbage",
    ].join("\n");
    expect(parseMd5sums("coreutils", text).files).toEqual([
      ["usr/bin/true", "d41d8cd98f00b204e9800998ecf8427e"],
      ["usr/share/doc/x y/README", "0123456789abcdef0123456789abcdef"],
    ]);
    expect(md5sumsPackage("var/lib/dpkg/info/libc6:amd64.md5sums")).toBe("libc6:amd64");
    expect(md5sumsPackage("var/lib/dpkg/info/sub/x.md5sums")).toBeUndefined();
  });

  it("keeps only installed packages from status, with their conffiles, and survives a truncated file", () => {
    const status = [
      "Package: cron",
      "Status: install ok installed",
      "Architecture: amd64",
      "Version: 3.0pl1-162",
      "Conffiles:",
      " /etc/cron.daily/dpkg 0123456789abcdef0123456789abcdef",
      " /etc/obsolete newconffile",
      "",
      "Package: gone",
      "Status: deinstall ok config-files",
      "Version: 1",
      "",
      "Package: half",
      "Status: install ok inst",
    ].join("\n");
    expect(parseStatusForIntegrity(status).packages).toEqual([
      {
        name: "cron",
        arch: "amd64",
        version: "3.0pl1-162",
        conffiles: [["etc/cron.daily/dpkg", "0123456789abcdef0123456789abcdef"]],
      },
    ]);
  });
});

describe("persistence places", () => {
  it("names cron, systemd, preload, init, shell-startup and SSH places, and nothing else", () => {
    const rules = (p: string) => persistencePlace(p)?.rule;
    expect(rules("etc/cron.d/job")).toBe("persistence/cron");
    expect(rules("var/spool/cron/crontabs/root")).toBe("persistence/cron");
    expect(rules("etc/systemd/system/multi-user.target.wants/x.service")).toBe("persistence/systemd-unit");
    expect(rules("usr/lib/systemd/system/x.timer")).toBe("persistence/systemd-unit");
    expect(rules("etc/ld.so.preload")).toBe("persistence/ld-so-preload");
    expect(rules("etc/rc.local")).toBe("persistence/init-script");
    expect(rules("etc/profile.d/x.sh")).toBe("persistence/shell-startup");
    expect(rules("home/app/.ssh/authorized_keys")).toBe("persistence/authorized-keys");
    for (const p of ["etc/cron.d/.placeholder", "etc/systemd/system.conf", "etc/ld.so.conf", "usr/bin/cron"])
      expect(rules(p)).toBeUndefined();
  });
});

describe("image-level findings", () => {
  it("keeps at most MAX_FINDINGS and says how many there were", () => {
    const layers = Array.from({ length: MAX_FINDINGS + 200 }, (_, i) => ({
      layer: `sha256:${"a".repeat(64)}`,
      path: `opt/x/${String(i).padStart(5, "0")}.com`,
      data: [
        {
          kind: "file",
          md5: "0".repeat(32),
          sha256: "0".repeat(64),
          malware: [{ rule: "malware/eicar-test-file", title: "EICAR" }],
        },
      ],
      survives: true,
    }));
    const fact = contentFindings(layers);
    expect(fact.findings).toHaveLength(MAX_FINDINGS);
    expect(fact.warnings).toEqual([
      expect.objectContaining({
        code: "content-findings-truncated",
        message: expect.stringContaining(`${MAX_FINDINGS + 200}`),
      }),
    ]);
  });

  it("ignores layer data that is not the content engine's (a corrupt cache entry)", () => {
    const fact = contentFindings([
      { layer: "sha256:x", path: "etc/ld.so.preload", data: { kind: "nonsense" }, survives: true },
    ]);
    expect(fact.findings).toEqual([]);
  });
});
