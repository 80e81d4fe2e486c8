import { createVerify } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { githubOpenApi } from "./github-openapi.js";

/**
 * A loopback GitHub REST API for tracking tests: keeps issues, comments, labels and reactions per
 * repository, checks every request against GitHub's published OpenAPI description (method, path,
 * parameters, body) and answers with bodies valid under it. Faults (secondary rate limit, 429, 502,
 * reset connections, being unreachable) are injected per request. What the description rejects is
 * answered 422/404 as GitHub would, and recorded in `problems` so a test can insist on none.
 */
export interface FakeIssue {
  id: number;
  number: number;
  owner: string;
  repo: string;
  title: string;
  body: string;
  state: "open" | "closed";
  state_reason: "completed" | "not_planned" | "reopened" | "duplicate" | null;
  labels: string[];
  assignees: string[];
  user: string;
  closed_by: string | null;
  created_at: string;
  updated_at: string;
  closed_at: string | null;
}
export interface FakeComment {
  id: number;
  issueId: number;
  body: string;
  user: string;
  reactions: string[];
  created_at: string;
}
/** "answer-lost": GitHub does the write, then the connection drops before the answer arrives */
export type Fault = "secondary-rate-limit" | "429" | "502" | "reset" | "answer-lost";
export interface RecordedRequest {
  method: string;
  path: string;
  status: number;
}

export interface FakeGitHubOptions {
  /** the token a client must send (`Authorization: token …` or `Bearer …`) */
  token?: string;
  /** a GitHub App: its id and public key (PEM); installation tokens are minted for JWTs it signed */
  app?: { id: number; publicKey: string };
  /** the login writes are made as */
  login?: string;
}

export class FakeGitHub {
  readonly issues: FakeIssue[] = [];
  readonly comments: FakeComment[] = [];
  readonly requests: RecordedRequest[] = [];
  /** requests or answers the OpenAPI description says are wrong */
  readonly problems: string[] = [];
  private readonly faults: { fault: Fault; match?: (method: string, path: string) => boolean }[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly installationTokens = new Map<string, number>();
  private server: Server;
  private nextId = 1000;
  port = 0;

  private constructor(private readonly options: FakeGitHubOptions) {
    this.server = this.newServer();
  }

  static async start(options: FakeGitHubOptions = {}): Promise<FakeGitHub> {
    githubOpenApi();
    const fake = new FakeGitHub({ token: "test-github-token", login: "portcullis-bot", ...options });
    await fake.listen(0);
    return fake;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The next matching requests fail this way, once per fault given. */
  inject(faults: readonly Fault[], match?: (method: string, path: string) => boolean): void {
    for (const fault of faults) this.faults.push({ fault, ...(match ? { match } : {}) });
  }

  /** Unreachable: connections are refused until `up()`. */
  async down(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  async up(): Promise<void> {
    this.server = this.newServer();
    await this.listen(this.port);
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Successful writes (POST/PATCH/PUT/DELETE answered 2xx), optionally for one path pattern. */
  writes(filter?: RegExp): RecordedRequest[] {
    return this.requests.filter(
      (r) =>
        r.method !== "GET" &&
        r.status >= 200 &&
        r.status < 300 &&
        (filter === undefined || filter.test(`${r.method} ${r.path}`)),
    );
  }

  issuesOf(owner: string, repo: string): FakeIssue[] {
    return this.issues.filter((i) => i.owner === owner && i.repo === repo);
  }

  commentsOn(issue: FakeIssue): FakeComment[] {
    return this.comments.filter((c) => c.issueId === issue.id);
  }

  /** What a person does in the web UI. */
  closeAsPerson(
    issue: FakeIssue,
    login = "alice",
    reason: "completed" | "not_planned" = "not_planned",
  ): void {
    Object.assign(issue, {
      state: "closed",
      state_reason: reason,
      closed_by: login,
      closed_at: stamp(),
      updated_at: stamp(),
    });
  }

  reopenAsPerson(issue: FakeIssue): void {
    Object.assign(issue, {
      state: "open",
      state_reason: "reopened",
      closed_by: null,
      closed_at: null,
      updated_at: stamp(),
    });
  }

  commentAsPerson(issue: FakeIssue, body: string, login = "alice"): FakeComment {
    const comment: FakeComment = {
      id: this.nextId++,
      issueId: issue.id,
      body,
      user: login,
      reactions: [],
      created_at: stamp(),
    };
    this.comments.push(comment);
    return comment;
  }

  // --- the wire ---

  private newServer(): Server {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((err: Error) => {
        this.problems.push(`fake GitHub crashed: ${err.stack ?? err.message}`);
        if (!res.headersSent) res.writeHead(500).end();
      });
    });
    server.on("connection", (s) => {
      this.sockets.add(s);
      s.on("close", () => this.sockets.delete(s));
    });
    return server;
  }

  private listen(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, "127.0.0.1", () => {
        this.port = (this.server.address() as { port: number }).port;
        resolve();
      });
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? "/", this.url);
    const method = req.method ?? "GET";
    const path = url.pathname;
    let answerLost = false;
    const send = (status: number, body?: unknown, headers: Record<string, string> = {}) => {
      this.requests.push({ method, path, status });
      if (answerLost) return void req.socket.destroy();
      res.writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers });
      res.end(body === undefined ? undefined : JSON.stringify(body));
    };

    const faultAt = this.faults.findIndex((f) => !f.match || f.match(method, path));
    if (faultAt >= 0 && this.faults[faultAt]!.fault === "answer-lost") {
      this.faults.splice(faultAt, 1);
      answerLost = true;
    } else if (faultAt >= 0) {
      const [{ fault }] = this.faults.splice(faultAt, 1) as [{ fault: Fault }];
      this.requests.push({ method, path, status: fault === "reset" ? 0 : Number(fault) || 403 });
      if (fault === "reset") return void req.socket.destroy();
      if (fault === "502")
        return void res.writeHead(502, { "content-type": "text/html" }).end("<h1>502 Bad Gateway</h1>");
      const limited = {
        message:
          fault === "429"
            ? "Too many requests"
            : "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
        documentation_url: "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
      };
      res.writeHead(fault === "429" ? 429 : 403, {
        "content-type": "application/json",
        "retry-after": "1",
        "x-ratelimit-remaining": "4000",
      });
      return void res.end(JSON.stringify(limited));
    }

    const spec = githubOpenApi();
    const found = spec.find(method, path);
    if (!found) return send(404, notFound());
    let body: unknown;
    if (chunks.length > 0) {
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch {
        this.problems.push(`${method} ${path}: body is not JSON`);
        return send(400, { message: "Problems parsing JSON", documentation_url: DOCS });
      }
    }
    const problems = spec.checkRequest(found.op, found.params, url.searchParams, body);
    if (problems.length > 0) {
      this.problems.push(...problems.map((p) => `${method} ${path}: ${p}`));
      return send(422, {
        message: "Validation Failed",
        documentation_url: DOCS,
        errors: problems.map((p) => ({ resource: "Issue", code: "invalid", message: p })),
      });
    }
    const who = this.authenticate(req.headers.authorization, found.op.template);
    if (!who) return send(401, { message: "Bad credentials", documentation_url: DOCS, status: "401" });

    const answer = this.route(
      method,
      found.op.template,
      found.params,
      url.searchParams,
      body as Record<string, unknown>,
    );
    const valid = spec.checkResponse(found.op, answer.status, answer.body);
    if (valid.length > 0) this.problems.push(...valid);
    send(answer.status, answer.body, answer.headers);
  }

  private authenticate(authorization: string | undefined, template: string): string | undefined {
    const token = /^(?:token|bearer) (\S+)$/i.exec(authorization ?? "")?.[1];
    if (!token) return undefined;
    if (token === this.options.token) return this.options.login;
    if (this.installationTokens.has(token)) return `app-${this.options.app?.id}[bot]`;
    const app = this.options.app;
    if (
      app &&
      (template === "/repos/{owner}/{repo}/installation" ||
        template === "/app/installations/{installation_id}/access_tokens")
    )
      return verifyAppJwt(token, app) ? "app" : undefined;
    return undefined;
  }

  private route(
    method: string,
    template: string,
    params: Record<string, string>,
    query: URLSearchParams,
    body: Record<string, unknown>,
  ): { status: number; body?: unknown; headers?: Record<string, string> } {
    const { owner = "", repo = "" } = params;
    const issueOf = () =>
      this.issues.find(
        (i) => i.owner === owner && i.repo === repo && i.number === Number(params.issue_number),
      );
    switch (`${method} ${template}`) {
      case "GET /repos/{owner}/{repo}/installation":
        return { status: 200, body: this.installation(owner) };
      case "POST /app/installations/{installation_id}/access_tokens": {
        const token = `ghs_${Math.random().toString(36).slice(2)}`;
        this.installationTokens.set(token, Number(params.installation_id));
        return { status: 201, body: { token, expires_at: new Date(Date.now() + 3_600_000).toISOString() } };
      }
      case "GET /repos/{owner}/{repo}/issues": {
        const state = query.get("state") ?? "open";
        const labels = (query.get("labels") ?? "").split(",").filter(Boolean);
        const all = this.issuesOf(owner, repo).filter(
          (i) => (state === "all" || i.state === state) && labels.every((l) => i.labels.includes(l)),
        );
        const perPage = Math.min(Number(query.get("per_page") ?? 30), 100);
        const page = Number(query.get("page") ?? 1);
        const slice = all.slice((page - 1) * perPage, page * perPage);
        const headers: Record<string, string> = {};
        if (page * perPage < all.length) {
          const next = new URLSearchParams(query);
          next.set("page", String(page + 1));
          headers.link = `<${this.url}/repos/${owner}/${repo}/issues?${next}>; rel="next"`;
        }
        return { status: 200, body: slice.map((i) => this.issueJson(i)), headers };
      }
      case "POST /repos/{owner}/{repo}/issues": {
        const issue: FakeIssue = {
          id: this.nextId++,
          number: this.issuesOf(owner, repo).length + 1,
          owner,
          repo,
          title: String(body.title),
          body: String(body.body ?? ""),
          state: "open",
          state_reason: null,
          labels: labelNames(body.labels),
          assignees: (body.assignees as string[] | undefined) ?? [],
          user: this.options.login ?? "portcullis-bot",
          closed_by: null,
          created_at: stamp(),
          updated_at: stamp(),
          closed_at: null,
        };
        if (issue.body.length > 65_536) return { status: 422, body: tooLong() };
        this.issues.push(issue);
        return { status: 201, body: this.issueJson(issue) };
      }
      case "GET /repos/{owner}/{repo}/issues/{issue_number}": {
        const issue = issueOf();
        return issue ? { status: 200, body: this.issueJson(issue) } : { status: 404, body: notFound() };
      }
      case "PATCH /repos/{owner}/{repo}/issues/{issue_number}": {
        const issue = issueOf();
        if (!issue) return { status: 404, body: notFound() };
        if (typeof body.body === "string" && body.body.length > 65_536)
          return { status: 422, body: tooLong() };
        if (typeof body.body === "string") issue.body = body.body;
        if (body.title !== undefined) issue.title = String(body.title);
        if (Array.isArray(body.labels)) issue.labels = labelNames(body.labels);
        if (body.state === "closed" && issue.state === "open")
          Object.assign(issue, {
            state: "closed",
            state_reason: (body.state_reason as FakeIssue["state_reason"]) ?? "completed",
            closed_by: this.options.login,
            closed_at: stamp(),
          });
        if (body.state === "open" && issue.state === "closed")
          Object.assign(issue, { state: "open", state_reason: "reopened", closed_by: null, closed_at: null });
        issue.updated_at = stamp();
        return { status: 200, body: this.issueJson(issue) };
      }
      case "GET /repos/{owner}/{repo}/issues/{issue_number}/comments": {
        const issue = issueOf();
        if (!issue) return { status: 404, body: notFound() };
        const perPage = Math.min(Number(query.get("per_page") ?? 30), 100);
        const page = Number(query.get("page") ?? 1);
        const list = this.commentsOn(issue).slice((page - 1) * perPage, page * perPage);
        return { status: 200, body: list.map((c) => this.commentJson(c, issue)) };
      }
      case "POST /repos/{owner}/{repo}/issues/{issue_number}/comments": {
        const issue = issueOf();
        if (!issue) return { status: 404, body: notFound() };
        if (String(body.body).length > 65_536) return { status: 422, body: tooLong() };
        const comment: FakeComment = {
          id: this.nextId++,
          issueId: issue.id,
          body: String(body.body),
          user: this.options.login ?? "portcullis-bot",
          reactions: [],
          created_at: stamp(),
        };
        this.comments.push(comment);
        issue.updated_at = stamp();
        return { status: 201, body: this.commentJson(comment, issue) };
      }
      case "POST /repos/{owner}/{repo}/issues/comments/{comment_id}/reactions": {
        const comment = this.comments.find((c) => c.id === Number(params.comment_id));
        if (!comment) return { status: 404, body: notFound() };
        const content = String(body.content);
        const again = comment.reactions.includes(content);
        if (!again) comment.reactions.push(content);
        return {
          status: again ? 200 : 201,
          body: {
            id: this.nextId++,
            node_id: "REA_x",
            user: this.user(this.options.login ?? "bot"),
            content,
            created_at: stamp(),
          },
        };
      }
      default:
        return { status: 404, body: notFound() };
    }
  }

  private user(login: string) {
    const base = `${this.url}/users/${login}`;
    return {
      login,
      id: 1,
      node_id: "U_1",
      avatar_url: `${this.url}/avatars/${login}`,
      gravatar_id: "",
      url: base,
      html_url: `${this.url}/${login}`,
      followers_url: `${base}/followers`,
      following_url: `${base}/following{/other_user}`,
      gists_url: `${base}/gists{/gist_id}`,
      starred_url: `${base}/starred{/owner}{/repo}`,
      subscriptions_url: `${base}/subscriptions`,
      organizations_url: `${base}/orgs`,
      repos_url: `${base}/repos`,
      events_url: `${base}/events{/privacy}`,
      received_events_url: `${base}/received_events`,
      type: login.endsWith("[bot]") ? "Bot" : "User",
      site_admin: false,
    };
  }

  private issueJson(i: FakeIssue) {
    const url = `${this.url}/repos/${i.owner}/${i.repo}/issues/${i.number}`;
    return {
      id: i.id,
      node_id: `I_${i.id}`,
      url,
      repository_url: `${this.url}/repos/${i.owner}/${i.repo}`,
      labels_url: `${url}/labels{/name}`,
      comments_url: `${url}/comments`,
      events_url: `${url}/events`,
      html_url: `${this.url}/${i.owner}/${i.repo}/issues/${i.number}`,
      number: i.number,
      state: i.state,
      state_reason: i.state_reason,
      title: i.title,
      body: i.body,
      user: this.user(i.user),
      labels: i.labels.map((name, n) => ({
        id: n + 1,
        node_id: `LA_${n + 1}`,
        url: `${this.url}/repos/${i.owner}/${i.repo}/labels/${encodeURIComponent(name)}`,
        name,
        description: null,
        color: "ededed",
        default: false,
      })),
      assignee: i.assignees[0] ? this.user(i.assignees[0]) : null,
      assignees: i.assignees.map((a) => this.user(a)),
      milestone: null,
      locked: false,
      comments: this.comments.filter((c) => c.issueId === i.id).length,
      closed_at: i.closed_at,
      created_at: i.created_at,
      updated_at: i.updated_at,
      closed_by: i.closed_by ? this.user(i.closed_by) : null,
      author_association: "NONE",
    };
  }

  private commentJson(c: FakeComment, i: FakeIssue) {
    return {
      id: c.id,
      node_id: `IC_${c.id}`,
      url: `${this.url}/repos/${i.owner}/${i.repo}/issues/comments/${c.id}`,
      html_url: `${this.url}/${i.owner}/${i.repo}/issues/${i.number}#issuecomment-${c.id}`,
      issue_url: `${this.url}/repos/${i.owner}/${i.repo}/issues/${i.number}`,
      body: c.body,
      user: this.user(c.user),
      created_at: c.created_at,
      updated_at: c.created_at,
      author_association: "NONE",
    };
  }

  private installation(owner: string) {
    const id = 4000 + [...owner].reduce((a, c) => a + c.charCodeAt(0), 0);
    return {
      id,
      account: this.user(owner),
      access_tokens_url: `${this.url}/app/installations/${id}/access_tokens`,
      repositories_url: `${this.url}/installation/repositories`,
      html_url: `${this.url}/settings/installations/${id}`,
      app_id: this.options.app?.id ?? 1,
      app_slug: "portcullis",
      target_id: 1,
      target_type: "Organization",
      permissions: { issues: "write", metadata: "read" },
      events: ["issues", "issue_comment"],
      created_at: "2026-01-01T00:00:00Z",
      updated_at: "2026-01-01T00:00:00Z",
      single_file_name: null,
      repository_selection: "all",
      suspended_by: null,
      suspended_at: null,
    };
  }
}

const DOCS = "https://docs.github.com/rest";
const stamp = () => new Date().toISOString().replace(/\.\d+Z$/, "Z");
const notFound = () => ({ message: "Not Found", documentation_url: DOCS, status: "404" });
const tooLong = () => ({
  message: "Validation Failed",
  documentation_url: DOCS,
  errors: [
    {
      resource: "Issue",
      code: "custom",
      field: "body",
      message: "body is too long (maximum is 65536 characters)",
    },
  ],
});
const labelNames = (labels: unknown): string[] =>
  Array.isArray(labels)
    ? labels.map((l) => (typeof l === "string" ? l : String((l as { name?: unknown }).name ?? "")))
    : [];

/** An App's JWT: RS256, signed by the App's key, issued for its id, not expired. */
function verifyAppJwt(jwt: string, app: { id: number; publicKey: string }): boolean {
  const [header, payload, signature] = jwt.split(".");
  if (!header || !payload || !signature) return false;
  const ok = createVerify("RSA-SHA256")
    .update(`${header}.${payload}`)
    .verify(app.publicKey, Buffer.from(signature, "base64url"));
  if (!ok) return false;
  const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as {
    iss?: unknown;
    exp?: number;
  };
  return (
    String(claims.iss) === String(app.id) && typeof claims.exp === "number" && claims.exp * 1000 > Date.now()
  );
}
