import { connect, type Socket } from "node:net";
import { ClamdError } from "./clamd-error.js";

/** Where clamd listens: `tcp://127.0.0.1:3310`, `127.0.0.1:3310`, `unix:/run/clamav/clamd.ctl` or a socket path. */
export type ClamdAddress = { kind: "tcp"; host: string; port: number } | { kind: "unix"; path: string };

export const describeClamd = (a: ClamdAddress) =>
  a.kind === "tcp" ? `tcp://${a.host}:${a.port}` : `unix:${a.path}`;

// clamd's replies are one short line; anything longer is not clamd
export const MAX_REPLY = 4096;
const CHUNK = 64 * 1024;
const INSTREAM = Buffer.from("zINSTREAM\0");
/** Bytes sent to clamd and not yet answered; a file waits for room beyond this (one larger file goes alone). */
const MAX_IN_FLIGHT_BYTES = 16 * 1024 * 1024;
/** Scans waiting for an answer: well under clamd's MaxQueue (100 by default). */
const MAX_IN_FLIGHT_SCANS = 32;
/**
 * An idle session is ended this soon, well before clamd's IdleTimeout (30 s by default) closes it:
 * a scan sent just as clamd hangs up would be reported as unscanned.
 */
const IDLE_END_MS = 5_000;

interface Waiting {
  bytes: number;
  resolve(reply: string): void;
  reject(err: Error): void;
}

/**
 * One clamd `IDSESSION` connection: `zINSTREAM` commands one after another on one socket while
 * earlier ones are scanned, each reply `<id>: <reply>` matched to its command by id (clamd answers in
 * the order it finishes). A session that closes or stalls with scans unanswered rejects each of them.
 */
export class ClamdSession {
  private readonly socket: Socket;
  private nextId = 1;
  private readonly waiting = new Map<number, Waiting>();
  private inFlight = 0;
  private partial: Buffer[] = [];
  private partialBytes = 0;
  private room: (() => void)[] = [];
  /** why the session is over; set once */
  private over: Error | undefined;
  /** whether clamd ever answered: a session that never did is a clamd that cannot be reached */
  answered = false;
  private idle: NodeJS.Timeout | undefined;

  constructor(
    private readonly address: ClamdAddress,
    private readonly timeoutMs: number,
  ) {
    this.socket =
      address.kind === "tcp"
        ? connect({ host: address.host, port: address.port })
        : connect({ path: address.path });
    this.socket.write("zIDSESSION\0");
    this.socket.on("data", (data: Buffer) => this.read(data));
    this.socket.on("error", (err) => this.close(new ClamdError(`clamd at ${this.where}: ${err.message}`)));
    this.socket.on("close", () =>
      this.close(
        new ClamdError(
          `clamd at ${this.where} closed the session with ${this.waiting.size} scan(s) unanswered`,
        ),
      ),
    );
    this.socket.setTimeout(timeoutMs, () => {
      if (this.waiting.size === 0) this.end();
      else this.close(new ClamdError(`clamd at ${this.where} did not answer within ${this.timeoutMs} ms`));
    });
    this.socket.unref();
  }

  private get where(): string {
    return describeClamd(this.address);
  }

  /** Why the session cannot take more scans, or undefined while it can. */
  get failure(): Error | undefined {
    return this.over;
  }

  /**
   * Sends one stream once there is room; resolves with its reply's promise, so the caller reads on
   * while clamd scans. The bytes are copied: the caller may reuse `content` at once.
   */
  async send(content: Buffer): Promise<{ reply: Promise<string> }> {
    while (
      this.over === undefined &&
      this.waiting.size > 0 &&
      (this.waiting.size >= MAX_IN_FLIGHT_SCANS || this.inFlight + content.length > MAX_IN_FLIGHT_BYTES)
    )
      await new Promise<void>((resolve) => this.room.push(resolve));
    if (this.over !== undefined) throw this.over;
    const id = this.nextId++;
    const reply = new Promise<string>((resolve, reject) =>
      this.waiting.set(id, { bytes: content.length, resolve, reject }),
    );
    this.inFlight += content.length;
    clearTimeout(this.idle);
    this.socket.ref();
    this.socket.write(instreamFrame(content));
    return { reply };
  }

  /** Ends the session politely (`zEND`); scans still unanswered are rejected. */
  end(): void {
    if (this.over !== undefined) return;
    this.socket.end("zEND\0");
    this.close(new ClamdError(`the session with clamd at ${this.where} was ended`), false);
  }

  private read(data: Buffer): void {
    let start = 0;
    for (let nul = data.indexOf(0); nul !== -1; nul = data.indexOf(0, start)) {
      this.partial.push(data.subarray(start, nul));
      const line = Buffer.concat(this.partial).toString("utf8");
      this.partial = [];
      this.partialBytes = 0;
      start = nul + 1;
      this.answer(line);
      if (this.over !== undefined) return;
    }
    this.partialBytes += data.length - start;
    if (this.partialBytes > MAX_REPLY)
      this.close(new ClamdError(`clamd at ${this.where}: reply longer than ${MAX_REPLY} bytes`));
    else if (start < data.length) this.partial.push(Buffer.from(data.subarray(start)));
  }

  private answer(line: string): void {
    const match = /^(\d+): ([\s\S]*)$/.exec(line);
    const waiting = match ? this.waiting.get(Number(match[1])) : undefined;
    if (!match || waiting === undefined) {
      this.close(
        new ClamdError(
          `clamd at ${this.where} answered no scan of this session: ${JSON.stringify(line.slice(0, 200))}`,
        ),
      );
      return;
    }
    this.answered = true;
    this.waiting.delete(Number(match[1]));
    this.inFlight -= waiting.bytes;
    waiting.resolve(match[2]!);
    if (this.waiting.size === 0) {
      this.socket.unref();
      this.idle = setTimeout(() => this.end(), IDLE_END_MS).unref();
    }
    this.wake();
  }

  private close(reason: Error, destroy = true): void {
    if (this.over !== undefined) return;
    this.over = reason;
    clearTimeout(this.idle);
    if (destroy) this.socket.destroy();
    for (const { reject } of this.waiting.values()) reject(reason);
    this.waiting.clear();
    this.inFlight = 0;
    this.wake();
  }

  private wake(): void {
    const room = this.room;
    this.room = [];
    for (const resolve of room) resolve();
  }
}

/** `zINSTREAM`, the bytes in length-prefixed chunks and the zero length that ends them, in one buffer. */
function instreamFrame(content: Buffer): Buffer {
  const chunks = Math.ceil(content.length / CHUNK);
  const frame = Buffer.allocUnsafe(INSTREAM.length + content.length + 4 * chunks + 4);
  let at = INSTREAM.copy(frame, 0);
  for (let offset = 0; offset < content.length; offset += CHUNK) {
    const chunk = content.subarray(offset, offset + CHUNK);
    at = frame.writeUInt32BE(chunk.length, at);
    at += chunk.copy(frame, at);
  }
  frame.writeUInt32BE(0, at);
  return frame;
}
