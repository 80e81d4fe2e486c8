import { createHash } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";

/** What a test serves for one path; `status` defaults to 200. */
export interface FakeResponse {
  status?: number;
  headers?: Record<string, string>;
  body?: Buffer | string;
  /** drop the connection without answering (a reset) */
  reset?: boolean;
}

export interface RecordedRequest {
  method: string;
  path: string;
  authorization: string | undefined;
  accept: string | undefined;
  body: string;
}

export type FakeHandler = (req: RecordedRequest) => FakeResponse | undefined;

export interface FakeRegistryOptions {
  /** "basic": Basic user/pass; "bearer": a token service at /token on the same server */
  auth?:
    | { kind: "basic"; username: string; password: string }
    | { kind: "bearer"; username?: string; password?: string; expiresIn?: number };
}

/**
 * A registry played by node:http on 127.0.0.1 (port 0): manifests and blobs by path, optional
 * Basic or Bearer auth, and per-test handlers that inject faults before normal serving.
 */
export class FakeRegistry {
  readonly requests: RecordedRequest[] = [];
  readonly content = new Map<string, { body: Buffer; contentType: string }>();
  /** handlers run first, in order; the first to answer wins */
  readonly handlers: FakeHandler[] = [];
  tokenRequests: RecordedRequest[] = [];
  private tokenSerial = 0;
  private readonly validTokens = new Set<string>();
  private server!: http.Server;
  host = "";

  constructor(private readonly options: FakeRegistryOptions = {}) {}

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => this.serve(req, res, Buffer.concat(chunks).toString("utf8")));
    });
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.host = `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Serves `body` at `/v2/<repo>/manifests/<ref>` (and by its digest); returns the digest. */
  putManifest(repository: string, body: Buffer | string, contentType: string, tag?: string): string {
    const bytes = Buffer.from(body);
    const digest = sha256(bytes);
    this.content.set(`/v2/${repository}/manifests/${digest}`, { body: bytes, contentType });
    if (tag) this.content.set(`/v2/${repository}/manifests/${tag}`, { body: bytes, contentType });
    return digest;
  }

  putBlob(repository: string, body: Buffer | string): string {
    const bytes = Buffer.from(body);
    const digest = sha256(bytes);
    this.content.set(`/v2/${repository}/blobs/${digest}`, {
      body: bytes,
      contentType: "application/octet-stream",
    });
    return digest;
  }

  invalidateTokens(): void {
    this.validTokens.clear();
  }

  private serve(req: http.IncomingMessage, res: http.ServerResponse, body: string): void {
    const recorded: RecordedRequest = {
      method: req.method ?? "GET",
      path: req.url ?? "/",
      authorization: req.headers.authorization,
      accept: req.headers.accept,
      body,
    };
    if (recorded.path.startsWith("/token")) {
      this.tokenRequests.push(recorded);
      this.answer(res, this.issueToken(recorded));
      return;
    }
    this.requests.push(recorded);
    for (const handler of this.handlers) {
      const answer = handler(recorded);
      if (answer) {
        if (answer.reset) {
          req.socket.destroy();
          return;
        }
        this.answer(res, answer);
        return;
      }
    }
    const denied = this.checkAuth(recorded);
    if (denied) {
      this.answer(res, denied);
      return;
    }
    const item = this.content.get(recorded.path.split("?")[0] ?? "");
    if (!item) {
      this.answer(res, {
        status: 404,
        body: JSON.stringify({ errors: [{ code: "MANIFEST_UNKNOWN", message: "manifest unknown" }] }),
      });
      return;
    }
    this.answer(res, { headers: { "content-type": item.contentType }, body: item.body });
  }

  private checkAuth(req: RecordedRequest): FakeResponse | undefined {
    const auth = this.options.auth;
    if (!auth) return undefined;
    if (auth.kind === "basic") {
      const expected = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString("base64")}`;
      if (req.authorization === expected) return undefined;
      return { status: 401, headers: { "www-authenticate": 'Basic realm="fake"' } };
    }
    const token = req.authorization?.replace(/^Bearer /, "");
    if (token && this.validTokens.has(token)) return undefined;
    const repository = /^\/v2\/(.+)\/(manifests|blobs)\//.exec(req.path)?.[1] ?? "";
    const challenge = `Bearer realm="http://${this.host}/token",service="fake-registry",scope="repository:${repository}:pull"`;
    return { status: 401, headers: { "www-authenticate": challenge } };
  }

  private issueToken(req: RecordedRequest): FakeResponse {
    const auth = this.options.auth;
    if (auth?.kind !== "bearer") return { status: 404 };
    if (auth.username !== undefined) {
      const expected = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString("base64")}`;
      const refresh = new URLSearchParams(req.body).get("refresh_token");
      if (req.authorization !== expected && refresh !== "identity-token-1") return { status: 401 };
    }
    const token = `token-${++this.tokenSerial}`;
    this.validTokens.add(token);
    return {
      body: JSON.stringify({ token, expires_in: auth.expiresIn ?? 300 }),
      headers: { "content-type": "application/json" },
    };
  }

  private answer(res: http.ServerResponse, answer: FakeResponse): void {
    res.writeHead(answer.status ?? 200, answer.headers ?? {});
    res.end(answer.body ?? "");
  }
}

export const sha256 = (data: Buffer | string): string =>
  `sha256:${createHash("sha256").update(data).digest("hex")}`;
