import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { runCli } from "./support/cli.js";

describe("portcullis rescan", () => {
  it("needs --repository, and a --since that is a date: usage errors exit 2", async () => {
    const missing = await runCli(["rescan"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--repository/);
    const since = await runCli(["rescan", "--repository", "127.0.0.1:5000/a", "--since", "last week"]);
    expect(since.code).toBe(2);
    expect(since.stderr).toMatch(/--since: not a date/);
  });

  it("says why when the server cannot be reached or refuses, and exits 1", async () => {
    // a loopback port nobody listens on: bind one, note it, close it
    const server = createServer((_req, res) => {
      res.writeHead(401, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: "this API needs the hook token" }));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const { port } = server.address() as AddressInfo;
    try {
      const refused = await runCli(["rescan", "--repository", "*", "--server", `http://127.0.0.1:${port}`]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(
        /refused the request \(401\): pass --token .*: this API needs the hook token/,
      );
    } finally {
      await new Promise((r) => server.close(r));
    }
    const unreachable = await runCli(["rescan", "--repository", "*", "--server", `http://127.0.0.1:${port}`]);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(/cannot reach http:\/\/127\.0\.0\.1/);
  });
});
