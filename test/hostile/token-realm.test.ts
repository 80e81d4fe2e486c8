import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ScanError } from "../../shared/model/errors.js";
import { openImageSource } from "../../shared/registry/open-image-source.js";
import { RegistryClient } from "../../shared/registry/registry-client.js";
import { FakeRegistry } from "../registry/fake-registry.js";
import { pushImage } from "../registry/image-builder.js";

describe("credentials and a token realm on another host or port", () => {
  let realm: Server;
  let realmHost = "";
  const seen: (string | undefined)[] = [];
  let registry: FakeRegistry;
  beforeAll(async () => {
    // a loopback "token service" on another port: it records what it is sent and refuses
    realm = createServer((req, res) => {
      seen.push(req.headers.authorization);
      res.writeHead(401).end();
    });
    await new Promise<void>((resolve) => realm.listen(0, "127.0.0.1", resolve));
    realmHost = `127.0.0.1:${(realm.address() as { port: number }).port}`;
    registry = await new FakeRegistry().start();
    pushImage(registry, "app", { tag: "latest" });
    registry.handlers.push((req) =>
      req.path.includes("/manifests/")
        ? {
            status: 401,
            headers: { "www-authenticate": `Bearer realm="http://${realmHost}/token",service="s"` },
          }
        : undefined,
    );
  });
  afterAll(async () => {
    await registry.close();
    await new Promise((resolve) => realm.close(resolve));
  });

  const pull = async (allowed: (host: string) => boolean) => {
    const client = new RegistryClient({
      insecureRegistries: [registry.host, realmHost],
      credentials: async () => ({ kind: "basic", username: "scanner", password: "secret" }),
      tokenRealmAllowed: allowed,
    });
    const source = await openImageSource(`${registry.host}/app`, { registryClient: client });
    return source.resolve().then(
      () => undefined,
      (err: unknown) => err,
    );
  };

  it("withholds the credentials when the realm's host is not allowed, and says so", async () => {
    seen.length = 0;
    const err = await pull((host) => host === registry.host);
    expect(err).toBeInstanceOf(ScanError);
    expect((err as Error).message).toContain("withheld");
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((h) => h === undefined)).toBe(true);
  });

  it("sends them when the realm's host is on the allow list too", async () => {
    seen.length = 0;
    await pull((host) => host === registry.host || host === realmHost);
    expect(seen[0]).toMatch(/^Basic /);
  });
});
