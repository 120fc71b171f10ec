// A stand-in model server for the supervisor's tests. Behaviour from env:
//   FAKE_PORT, FAKE_START_DELAY_MS (not listening until then), FAKE_WARMUP_FAILS (first N warmups answer 500,
//   "always" for all), FAKE_CRASH_AFTER_MS (exit 3 after that long), FAKE_QUEUED=1 (answer /prompt at once with a
//   prompt_id, as ComfyUI does, and list the job at /history/<id> 800 ms later).
//   FAKE_PID_FILE: written at start with {"pid", "helper"}: this process's pid and its helper's.
//   FAKE_HELPER=1: start a helper process that runs until killed, as a model server's worker processes do.
//   FAKE_IGNORE_TERM=1: ignore SIGTERM (a model server that does not stop when asked).
//   FAKE_ORPHANS=N: at start, leave N orphans (processes whose parent has exited); POST /orphans/exit ends them.
// Endpoints: GET /health, POST /prompt (the warmup), POST /orphans/exit, GET /stats ({warmups, slowStarted, aborted}: aborted counts
// requests whose connection closed before the answer), GET /slow?ms=N, POST /echo, and /ws: a WebSocket that answers
// each text message "m" with "echo:m".
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";

const env = process.env;
let warmups = 0;
let slowStarted = 0;
let aborted = 0;
const history = {};
const failsLeft = () => (env.FAKE_WARMUP_FAILS === "always" ? Infinity : Number(env.FAKE_WARMUP_FAILS ?? 0) - warmups);

const helper = env.FAKE_HELPER ? spawn(process.execPath, ["-e", "setInterval(() => {}, 1 << 30)"], { stdio: "ignore" }) : undefined;
if (env.FAKE_PID_FILE) {
  fs.writeFileSync(`${env.FAKE_PID_FILE}.tmp`, JSON.stringify({ pid: process.pid, helper: helper?.pid }));
  fs.renameSync(`${env.FAKE_PID_FILE}.tmp`, env.FAKE_PID_FILE);
}
const orphans = [];
for (let i = 0; i < Number(env.FAKE_ORPHANS ?? 0); i++) {
  const sh = spawn("/bin/sh", ["-c", "sleep 600 & echo $!"], { stdio: ["ignore", "pipe", "ignore"] });
  sh.stdout.on("data", (d) => orphans.push(Number(d)));
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, "http://x");
  res.on("close", () => {
    if (!res.writableFinished) aborted++;
  });
  if (url.pathname === "/health") return res.end("ok");
  if (url.pathname.startsWith("/history/")) {
    const id = decodeURIComponent(url.pathname.slice("/history/".length));
    return res.end(JSON.stringify(history[id] ? { [id]: history[id] } : {}));
  }
  if (url.pathname === "/stats") return res.end(JSON.stringify({ warmups, slowStarted, aborted }));
  if (url.pathname === "/orphans/exit" && req.method === "POST") {
    for (const pid of orphans.splice(0)) process.kill(pid);
    return res.end("ok");
  }
  if (url.pathname === "/prompt" && req.method === "POST") {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      const fail = failsLeft() > 0;
      warmups++;
      if (env.FAKE_QUEUED) {
        const id = `job-${warmups}`;
        setTimeout(() => (history[id] = { status: { status_str: fail ? "error" : "success", completed: !fail } }), 800);
        return res.end(JSON.stringify({ prompt_id: id, number: warmups }));
      }
      setTimeout(() => {
        res.statusCode = fail ? 500 : 200;
        res.end(fail ? "warmup exploded" : JSON.stringify({ got: JSON.parse(body || "null") }));
      }, 100);
    });
    return;
  }
  if (url.pathname === "/slow") {
    slowStarted++;
    const timer = setTimeout(() => res.end("slow done"), Number(url.searchParams.get("ms") ?? 1000));
    res.on("close", () => clearTimeout(timer));
    return;
  }
  if (url.pathname === "/echo") {
    res.setHeader("x-echo", "1");
    return req.pipe(res);
  }
  res.statusCode = 404;
  res.end("nope");
});

/** One unmasked (server-to-client) WebSocket frame. */
const frame = (opcode, payload) => {
  const len = payload.length;
  const head = len < 126 ? Buffer.from([0x80 | opcode, len]) : Buffer.from([0x80 | opcode, 126, len >> 8, len & 0xff]);
  return Buffer.concat([head, payload]);
};

// RFC 6455, just enough for the tests: text messages under 64 KiB, masked by the client.
server.on("upgrade", (req, socket) => {
  const accept = createHash("sha1").update(`${req.headers["sec-websocket-key"]}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest("base64");
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
  let buf = Buffer.alloc(0);
  socket.on("data", (d) => {
    buf = Buffer.concat([buf, d]);
    for (;;) {
      if (buf.length < 2) return;
      let len = buf[1] & 0x7f;
      let at = 2;
      if (len === 126) {
        if (buf.length < 4) return;
        len = buf.readUInt16BE(2);
        at = 4;
      }
      if (buf.length < at + 4 + len) return;
      const mask = buf.subarray(at, at + 4);
      const payload = Buffer.from(buf.subarray(at + 4, at + 4 + len)).map((b, i) => b ^ mask[i % 4]);
      const opcode = buf[0] & 0x0f;
      buf = buf.subarray(at + 4 + len);
      if (opcode === 0x1) socket.write(frame(0x1, Buffer.concat([Buffer.from("echo:"), payload])));
      if (opcode === 0x8) socket.end(frame(0x8, payload));
    }
  });
  socket.on("error", () => undefined);
});
setTimeout(() => server.listen(Number(env.FAKE_PORT), "127.0.0.1"), Number(env.FAKE_START_DELAY_MS ?? 0));
if (env.FAKE_CRASH_AFTER_MS) setTimeout(() => process.exit(3), Number(env.FAKE_CRASH_AFTER_MS));
process.on("SIGTERM", () => (env.FAKE_IGNORE_TERM ? undefined : process.exit(0)));
