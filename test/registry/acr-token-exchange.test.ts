import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import {
  acrCredentialsProvider,
  exchangeAadTokenForAcrRefreshToken,
  requestAcrAccessToken,
} from "../../shared/registry/acr-token-exchange.js";
import { openImageSource } from "../../shared/registry/open-image-source.js";
import { TransferStats } from "../../shared/registry/transfer-stats.js";
import { FakeRegistry } from "./fake-registry.js";
import { pushImage } from "./image-builder.js";

/** A loopback ACR: /oauth2/exchange takes an AAD token, /oauth2/token a refresh token, /v2 a Bearer token. */
async function startFakeAcr() {
  const calls: { path: string; form: Record<string, string> }[] = [];
  const content = new FakeRegistry();
  let host = "";
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const url = req.url ?? "";
      const form = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString("utf8")));
      const json = (status: number, body: unknown) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(body));
      };
      if (url === "/oauth2/exchange") {
        calls.push({ path: url, form });
        if (form.grant_type !== "access_token" || form.access_token !== "aad-token" || form.service !== host)
          return json(401, {});
        return json(200, { refresh_token: "acr-refresh" });
      }
      if (url === "/oauth2/token") {
        calls.push({ path: url, form });
        if (form.grant_type !== "refresh_token" || form.refresh_token !== "acr-refresh") return json(401, {});
        return json(200, { access_token: `acr-access-for-${form.scope}` });
      }
      const repository = /^\/v2\/(.+)\/(manifests|blobs)\//.exec(url)?.[1];
      if (req.headers.authorization !== `Bearer acr-access-for-repository:${repository}:pull`) {
        res.writeHead(401, {
          "www-authenticate": `Bearer realm="http://${host}/oauth2/token",service="${host}"`,
        });
        return res.end();
      }
      const item = content.content.get(url);
      if (!item) return json(404, { errors: [{ code: "NOT_FOUND" }] });
      res.writeHead(200, { "content-type": item.contentType });
      res.end(item.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    host,
    calls,
    content,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

let acr: Awaited<ReturnType<typeof startFakeAcr>> | undefined;
afterEach(async () => {
  await acr?.close();
  acr = undefined;
});

describe("ACR managed-identity token exchange", () => {
  it("exchanges an AAD token for a refresh token, and that for a scoped access token", async () => {
    acr = await startFakeAcr();
    const options = { insecureRegistries: [acr.host] };
    const refresh = await exchangeAadTokenForAcrRefreshToken(acr.host, "aad-token", options);
    expect(refresh).toBe("acr-refresh");
    expect(await requestAcrAccessToken(acr.host, refresh, "repository:app:pull", options)).toBe(
      "acr-access-for-repository:app:pull",
    );
    await expect(exchangeAadTokenForAcrRefreshToken(acr.host, "wrong", options)).rejects.toMatchObject({
      code: "unauthorized",
      message: expect.stringContaining("AcrPull"),
    });
  });

  it("pulls an image with only an AAD token, exchanging it once for many requests", async () => {
    acr = await startFakeAcr();
    pushImage(acr.content, "app", { tag: "v1", layers: ["one", "two"] });
    let aadCalls = 0;
    const credentials = acrCredentialsProvider({
      getAadToken: async () => {
        aadCalls++;
        return "aad-token";
      },
      registries: [acr.host],
      insecureRegistries: [acr.host],
    });
    const stats = new TransferStats();
    const source = await openImageSource(`${acr.host}/app:v1`, {
      insecureRegistries: [acr.host],
      credentials,
      stats,
    });
    const [image] = await source.resolve();
    for (const layer of image?.layers ?? []) for await (const _ of await source.openBlob(layer));
    expect(aadCalls).toBe(1);
    expect(stats.retries).toBe(0);
    expect(acr.calls.map((c) => c.path)).toEqual(["/oauth2/exchange", "/oauth2/token"]);
    expect(acr.calls[1]?.form).toMatchObject({ service: acr.host, scope: "repository:app:pull" });
  });

  it("answers only for registries it is meant for (*.azurecr.io by default)", async () => {
    const provider = acrCredentialsProvider({ getAadToken: async () => "aad-token" });
    expect(await provider("ghcr.io")).toBeUndefined();
  });
});
