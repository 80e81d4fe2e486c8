import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildDebianTestImage, type DebianTestImage } from "./debian-image.js";
import { pushImage } from "./push-image.js";
import { type RegistryAuthMode, type RegistryServer, startRegistry } from "./registry-server.js";

const INDEX_ACCEPT = "application/vnd.oci.image.index.v1+json";

/** Fetches a manifest the way a client must for the registry's auth mode (challenge → token). */
async function getManifest(reg: RegistryServer, repo: string, ref: string): Promise<Response> {
  const url = `${reg.url}/v2/${repo}/manifests/${ref}`;
  const basic = `Basic ${Buffer.from(`${reg.username}:${reg.password}`).toString("base64")}`;
  if (reg.auth === "anonymous") return fetch(url, { headers: { accept: INDEX_ACCEPT } });
  if (reg.auth === "basic") return fetch(url, { headers: { accept: INDEX_ACCEPT, authorization: basic } });
  const challenge =
    (await fetch(url, { headers: { accept: INDEX_ACCEPT } })).headers.get("www-authenticate") ?? "";
  const params = Object.fromEntries([...challenge.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
  const tokenUrl = new URL(params.realm!);
  tokenUrl.searchParams.set("service", params.service!);
  tokenUrl.searchParams.set("scope", params.scope!);
  const { token } = (await (await fetch(tokenUrl, { headers: { authorization: basic } })).json()) as {
    token: string;
  };
  return fetch(url, { headers: { accept: INDEX_ACCEPT, authorization: `Bearer ${token}` } });
}

describe("the test registry", () => {
  let image: DebianTestImage;
  beforeAll(async () => {
    image = await buildDebianTestImage();
  }, 900_000);

  describe.each<RegistryAuthMode>(["anonymous", "basic", "bearer"])("in %s mode", (auth) => {
    let reg: RegistryServer;
    beforeAll(async () => {
      reg = await startRegistry({ auth });
    });
    afterAll(async () => {
      await reg?.stop();
    });

    it("takes a skopeo push of the two-platform index and serves it back by digest", async () => {
      const creds = reg.username ? { username: reg.username, password: reg.password! } : undefined;
      await pushImage(image.ociIndexRef, `${reg.host}/portcullis/debian:bookworm`, { all: true, creds });
      const res = await getManifest(reg, "portcullis/debian", "bookworm");
      expect(res.status).toBe(200);
      expect(res.headers.get("docker-content-digest")).toBe(image.indexDigest);
    });

    it("challenges a client without credentials unless anonymous", async () => {
      const res = await fetch(`${reg.url}/v2/portcullis/debian/manifests/bookworm`, {
        headers: { accept: INDEX_ACCEPT },
      });
      await res.arrayBuffer();
      const unauthenticated: Record<RegistryAuthMode, { status: number; challenge?: RegExp }> = {
        anonymous: { status: 200 },
        basic: { status: 401, challenge: /^Basic / },
        bearer: { status: 401, challenge: /^Bearer realm=/ },
      };
      expect(res.status).toBe(unauthenticated[auth].status);
      expect(res.headers.get("www-authenticate") ?? "").toMatch(unauthenticated[auth].challenge ?? /^$/);
    });
  });

  it("rejects a skopeo push with a wrong password behind Bearer auth", async () => {
    const reg = await startRegistry({ auth: "bearer" });
    try {
      await expect(
        pushImage(image.ociAmd64Ref, `${reg.host}/portcullis/debian:x`, {
          creds: { username: reg.username!, password: "wrong" },
        }),
      ).rejects.toThrow(/unauthorized|invalid username\/password/i);
      expect(reg.tokenServer!.requests.some((r) => r.status === 401)).toBe(true);
    } finally {
      await reg.stop();
    }
  });

  it("sends push notifications with the configured bearer token", async () => {
    const received: { authorization?: string; body: string }[] = [];
    const sink = http.createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => {
        body += c.toString();
      });
      req.on("end", () => {
        received.push({ authorization: req.headers.authorization, body });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => sink.listen(0, "127.0.0.1", resolve));
    const { port } = sink.address() as AddressInfo;
    const reg = await startRegistry({
      notifications: [
        { url: `http://127.0.0.1:${port}/api/hooks/distribution`, bearerToken: "s3cret", backoff: "200ms" },
      ],
    });
    try {
      await pushImage(image.ociAmd64Ref, `${reg.host}/portcullis/debian:notified`);
      const manifestPush = () =>
        received.find((r) => {
          const events = (
            JSON.parse(r.body) as {
              events: { action: string; target: { mediaType: string; tag?: string } }[];
            }
          ).events;
          return events.some((e) => e.action === "push" && e.target.tag === "notified");
        });
      const deadline = Date.now() + 15_000;
      while (!manifestPush() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(manifestPush()?.authorization).toBe("Bearer s3cret");
    } finally {
      await reg.stop();
      sink.closeAllConnections();
      await new Promise<void>((resolve) => sink.close(() => resolve()));
    }
  });
});
