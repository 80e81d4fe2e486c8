import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import os from "node:os";
import path from "node:path";
import { freePort } from "./free-port.js";

export interface RunningClamd {
  port: number;
  /** clamd's process id (a bench reads its CPU time from /proc) */
  pid: number;
  address: string;
  stop(): Promise<void>;
}

/**
 * Debian's real clamd on 127.0.0.1 with only the signature files given (`name.hdb`/`name.ndb` →
 * content), so it starts in a second and knows exactly what the test wrote.
 */
export async function startClamd(signatures: Record<string, string>): Promise<RunningClamd> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "portcullis-clamd-"));
  const db = path.join(dir, "db");
  await mkdir(db);
  for (const [name, text] of Object.entries(signatures)) await writeFile(path.join(db, name), text);
  const port = await freePort();
  const conf = path.join(dir, "clamd.conf");
  await writeFile(
    conf,
    [
      "Foreground yes",
      `DatabaseDirectory ${db}`,
      `TCPSocket ${port}`,
      "TCPAddr 127.0.0.1",
      `LogFile ${path.join(dir, "clamd.log")}`,
      "StreamMaxLength 26M",
      "",
    ].join("\n"),
  );
  const child: ChildProcess = spawn("clamd", ["-c", conf], { stdio: "ignore" });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode === null) child.kill("SIGTERM");
    await exited;
    await rm(dir, { recursive: true, force: true });
  };
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) break;
    if (await pong(port)) return { port, pid: child.pid ?? 0, address: `tcp://127.0.0.1:${port}`, stop };
    await new Promise((r) => setTimeout(r, 100));
  }
  await stop();
  throw new Error("clamd did not answer PING within 30 s (is clamav-daemon installed?)");
}

function pong(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    let reply = "";
    socket.on("connect", () => socket.end("zPING\0"));
    socket.on("data", (d: Buffer) => {
      reply += d.toString();
    });
    socket.on("end", () => resolve(reply.startsWith("PONG")));
    socket.on("error", () => resolve(false));
  });
}

/** The EICAR test string, which the content suites' clamd knows by its MD5. */
export const EICAR = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";

/**
 * clamd with the content suites' two signatures: EICAR by its MD5 (`Portcullis.Test.EICAR`) and
 * any file carrying a stratum URL (`Portcullis.Test.Stratum`).
 */
export function startTestClamd(): Promise<RunningClamd> {
  const hex = (s: string) => Buffer.from(s).toString("hex");
  return startClamd({
    "portcullis-test.hdb": `${createHash("md5").update(EICAR).digest("hex")}:${EICAR.length}:Portcullis.Test.EICAR\n`,
    "portcullis-test.ndb": `Portcullis.Test.Stratum:0:*:${hex("stratum+tcp://")}\n`,
  });
}
