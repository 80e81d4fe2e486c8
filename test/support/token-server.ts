import { timingSafeEqual } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import {
  createTokenSigningKey,
  signRegistryToken,
  type TokenAccess,
  type TokenSigningKey,
} from "./registry-token.js";

export interface TokenServerOptions {
  /** accepted Basic credentials, username → password */
  users: Record<string, string>;
  service?: string;
  issuer?: string;
  ttlSeconds?: number;
}

/** One token request as the server saw it, for tests that count token fetches. */
export interface TokenRequest {
  method: string;
  account?: string;
  service?: string;
  scopes: string[];
  status: number;
}

export interface TokenServer {
  /** the `realm` a registry puts in its Bearer challenge */
  realm: string;
  service: string;
  issuer: string;
  /** PEM certificate of the signing key, for the registry's `auth.token.rootcertbundle` */
  certPath: string;
  key: TokenSigningKey;
  requests: TokenRequest[];
  stop(): Promise<void>;
}

function parseScope(scope: string): TokenAccess | undefined {
  // repository:<name>:<actions>; the name itself never holds ':' but keep the middle whole anyway.
  const parts = scope.split(":");
  if (parts.length < 3) return undefined;
  const type = parts[0]!;
  const actions = parts.at(-1)!.split(",").filter(Boolean);
  return { type, name: parts.slice(1, -1).join(":"), actions };
}

function equalSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function basicCredentials(header: string | undefined): { user: string; password: string } | undefined {
  const m = /^Basic\s+(\S+)$/i.exec(header ?? "");
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, "base64").toString();
  const colon = decoded.indexOf(":");
  return colon < 0 ? undefined : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString();
}

/**
 * A Docker token server (distribution's token auth spec) on 127.0.0.1: `GET /token` with Basic
 * credentials and `POST /token` with an OAuth2 password grant; valid users get every action they
 * ask for, anonymous callers get a token without access, wrong credentials get 401.
 */
export async function startTokenServer(options: TokenServerOptions): Promise<TokenServer> {
  const keyDir = await mkdtemp(path.join(os.tmpdir(), "portcullis-token-key-"));
  const key = await createTokenSigningKey(keyDir);
  const service = options.service ?? "portcullis-test-registry";
  const issuer = options.issuer ?? "portcullis-test-token-issuer";
  const ttlSeconds = options.ttlSeconds ?? 300;
  const requests: TokenRequest[] = [];

  const server = http.createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      const record: TokenRequest = { method: req.method ?? "GET", scopes: [], status: 200 };
      requests.push(record);
      const reply = (status: number, body: unknown, headers: Record<string, string> = {}) => {
        record.status = status;
        res.writeHead(status, { "content-type": "application/json", ...headers });
        res.end(JSON.stringify(body));
      };
      if (url.pathname !== "/token") return reply(404, { errors: [{ code: "NOT_FOUND" }] });

      let params = url.searchParams;
      let creds = basicCredentials(req.headers.authorization);
      if (req.method === "POST") {
        params = new URLSearchParams(await readBody(req));
        if (params.get("grant_type") === "password") {
          creds = { user: params.get("username") ?? "", password: params.get("password") ?? "" };
        }
      } else if (req.method !== "GET") {
        return reply(405, { errors: [{ code: "UNSUPPORTED" }] });
      }
      record.service = params.get("service") ?? undefined;
      record.scopes = params
        .getAll("scope")
        .flatMap((s) => s.split(" "))
        .filter(Boolean);
      record.account = creds?.user;
      if (record.service !== undefined && record.service !== service) {
        return reply(400, {
          errors: [{ code: "INVALID_SERVICE", message: `unknown service ${record.service}` }],
        });
      }
      if (creds) {
        const expected = options.users[creds.user];
        if (expected === undefined || !equalSecret(expected, creds.password)) {
          return reply(
            401,
            { errors: [{ code: "UNAUTHORIZED", message: "bad credentials" }] },
            {
              "www-authenticate": 'Basic realm="portcullis-test-token"',
            },
          );
        }
      }
      const access = creds
        ? record.scopes.map(parseScope).filter((a): a is TokenAccess => a !== undefined)
        : [];
      const issuedAt = new Date();
      const token = signRegistryToken(
        key,
        { issuer, service, subject: creds?.user ?? "", access, ttlSeconds },
        issuedAt,
      );
      reply(200, { token, access_token: token, expires_in: ttlSeconds, issued_at: issuedAt.toISOString() });
    })().catch((err: unknown) => {
      res.writeHead(500).end(String(err));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    service,
    issuer,
    certPath: key.certPath,
    key,
    requests,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(keyDir, { recursive: true, force: true });
    },
  };
}
