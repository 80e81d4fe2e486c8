import { connect, type Socket } from "node:net";
import { ScanError } from "../../model/errors.js";
import { ClamdError } from "./clamd-error.js";
import { type ClamdAddress, ClamdSession, describeClamd, MAX_REPLY } from "./clamd-session.js";

export { type ClamdAddress, describeClamd } from "./clamd-session.js";

/** `PORTCULLIS_CLAMD`'s value as an address; throws on one that names neither a TCP port nor a socket. */
export function parseClamdAddress(value: string): ClamdAddress {
  const text = value.trim();
  if (text.startsWith("unix:")) return { kind: "unix", path: text.slice("unix:".length) };
  if (text.startsWith("/")) return { kind: "unix", path: text };
  const match = /^(?:tcp:\/\/)?(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(text);
  const port = Number(match?.[2]);
  if (!match || port < 1 || port > 65535)
    throw new ScanError(
      "invalid-settings",
      `PORTCULLIS_CLAMD: not tcp://host:port, host:port or a socket path: ${JSON.stringify(value)}`,
    );
  return { kind: "tcp", host: match[1]!.replace(/^\[|\]$/g, ""), port };
}

/** clamd's answer for one stream: clean, or the signature it found. */
export type ClamdVerdict = { infected: false } | { infected: true; signature: string };

const RETRY_AFTER_MS = 60_000;

/**
 * A client of clamd: scans go over one `IDSESSION` (`clamd-session.ts`), each file an INSTREAM
 * command, so the layer walk reads on while clamd scans; VERSION gets a connection of its own. Every
 * call has a timeout; a connection or protocol failure rejects (the caller reports it, never a clean
 * pass).
 */
export class ClamdClient {
  private failure: { at: number; message: string } | undefined;
  private session: ClamdSession | undefined;

  constructor(
    readonly address: ClamdAddress,
    private readonly timeoutMs = 30_000,
  ) {}

  /** `VERSION`: "ClamAV 1.4.6/27490/…" — the engine and its signature database. */
  async version(): Promise<string> {
    return (await this.exchange((socket) => socket.end("zVERSION\0"))).trim();
  }

  /** One file's verdict (`submit`, awaited). */
  async scan(content: Buffer): Promise<ClamdVerdict> {
    return (await this.submit(content)).verdict;
  }

  /**
   * Sends one file to clamd and resolves once it is on its way (the bytes are copied; waits while
   * too much is in flight), with the verdict still to come: the caller need not wait for it.
   */
  async submit(content: Buffer): Promise<{ verdict: Promise<ClamdVerdict> }> {
    // a clamd that just failed is not asked again for a while: one hung daemon must not cost a timeout per file
    if (this.failure !== undefined && Date.now() - this.failure.at < RETRY_AFTER_MS)
      throw new ClamdError(`${this.failure.message} (not retried for ${RETRY_AFTER_MS / 1000} s)`);
    if (this.session?.failure !== undefined) this.session = undefined;
    this.session ??= new ClamdSession(this.address, this.timeoutMs);
    const session = this.session;
    const { reply } = await session.send(content);
    return {
      verdict: reply.then(
        (text) => {
          this.failure = undefined;
          return parseScanReply(text);
        },
        (err: Error) => {
          // a session that never answered is a clamd that is down or hung; one that stopped half-way may be back
          if (!session.answered) this.failure ??= { at: Date.now(), message: err.message };
          throw err;
        },
      ),
    };
  }

  /** Ends the scan session (shutdown, tests); the next scan opens another. */
  close(): void {
    this.session?.end();
    this.session = undefined;
  }

  private async exchange(send: (socket: Socket) => void): Promise<string> {
    try {
      const reply = await this.connectAndSend(send);
      this.failure = undefined;
      return reply;
    } catch (err) {
      this.failure = { at: Date.now(), message: (err as Error).message };
      throw err;
    }
  }

  private connectAndSend(send: (socket: Socket) => void): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket =
        this.address.kind === "tcp"
          ? connect({ host: this.address.host, port: this.address.port })
          : connect({ path: this.address.path });
      const chunks: Buffer[] = [];
      let size = 0;
      const fail = (err: Error) => {
        socket.destroy();
        reject(err);
      };
      socket.setTimeout(this.timeoutMs, () =>
        fail(
          new ClamdError(
            `clamd at ${describeClamd(this.address)} did not answer within ${this.timeoutMs} ms`,
          ),
        ),
      );
      socket.on("error", (err) =>
        fail(new ClamdError(`clamd at ${describeClamd(this.address)}: ${err.message}`)),
      );
      socket.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_REPLY)
          fail(
            new ClamdError(`clamd at ${describeClamd(this.address)}: reply longer than ${MAX_REPLY} bytes`),
          );
        else chunks.push(chunk);
      });
      socket.on("end", () => {
        socket.destroy();
        resolve(Buffer.concat(chunks).toString("utf8").replace(/\0+$/, ""));
      });
      socket.on("connect", () => send(socket));
    });
  }
}

/** `stream: OK` → clean; `stream: Sig FOUND` → infected; anything else (an `ERROR`, garbage) throws. */
export function parseScanReply(reply: string): ClamdVerdict {
  const text = reply.replace(/\0+$/, "").trim();
  if (/^(?:\d+: )?stream: OK$/.test(text)) return { infected: false };
  const found = /^(?:\d+: )?stream: (.+) FOUND$/.exec(text);
  if (found) return { infected: true, signature: found[1]! };
  throw new ClamdError(`clamd could not scan the file: ${JSON.stringify(text.slice(0, 200))}`);
}
