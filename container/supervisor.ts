/**
 * warmstart-supervisor: the image's entrypoint. It makes "ready" mean "warm":
 *
 * 1. reads the weight files once, in parallel, into the page cache (bounded), while the model server starts:
 *    lazily streamed image layers read far faster this way than through the server's mmap page faults;
 * 2. starts the model server, waits for its health, sends one warmup request, and only then answers
 *    `GET /healthz` with 200 (503 and the current phase before), which is what Cloud Run's startup probe polls;
 * 3. proxies every other request (bodies streamed, WebSocket upgrades piped) to the model server; a client that goes
 *    away cancels its request there;
 * 4. `POST /warmup` is cheap and idempotent, for a page that calls it on every load (docs/prewarm.md): on a warm
 *    instance it answers at once; while the instance starts, every call waits for the startup's one warmup;
 *    `?rerun=1` runs the warmup again (concurrent calls share one run). Pages on the origins in WARMUP_ORIGINS may
 *    call it from a browser (CORS, container/warmupOrigins.ts); pages on others are refused;
 * 5. on SIGTERM stops accepting, lets in-flight requests finish (bounded), closes WebSockets with 1001, then stops the
 *    model server, all within Cloud Run's 10 s. If the model server dies on its own, it exits 1 so Cloud Run replaces
 *    the instance.
 *
 * The model server runs in a process group of its own (`sh -c` and all it starts), which is signalled as a whole:
 * Debian's and Ubuntu's sh (dash) does not exec the command's last process, so a signal to the shell alone would not
 * reach the model server. Nothing of the group outlives the supervisor. The image runs it under container/init.sh,
 * which, as PID 1, reaps the orphans the group leaves (Node cannot; see there).
 *
 * Logs are single-line JSON for Cloud Logging. Configured by environment variables; see `--help`.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import * as path from "node:path";
import { parseOriginList, warmupCors, WARMUP_ORIGINS_ENV } from "./warmupOrigins";
import { WebSocketRelay } from "./webSocketRelay";
import { COLD_START_FIELD, logLine, READY_MESSAGE, WARMUP_FAILED_MESSAGE, type ColdStart, type Severity } from "./logContract";


/**
 * Cloud Run sends SIGTERM, then SIGKILL 10 s later (https://cloud.google.com/run/docs/container-contract,
 * https://cloud.google.com/blog/topics/developers-practitioners/graceful-shutdowns-cloud-run-deep-dive): the drain and
 * the model server's stop share those 10 s.
 */
const SIGTERM_TO_SIGKILL_MS = 10_000;
/** Kept for after the model server's SIGKILL: the group's end, the last log lines, the exit. */
const EXIT_MARGIN_MS = 1_000;
/** The least time the model server gets between its SIGTERM and its SIGKILL when the instance stops. */
const MODEL_SERVER_STOP_MS = 2_000;
/** The longest drain that leaves the model server its time: 7 s. */
export const MAX_DRAIN_SECONDS = (SIGTERM_TO_SIGKILL_MS - EXIT_MARGIN_MS - MODEL_SERVER_STOP_MS) / 1000;
/** After a failure (no Cloud Run deadline), the model server's time between SIGTERM and SIGKILL. */
const FAIL_STOP_MS = 5_000;

export type Phase = "starting" | "waiting-for-model-server" | "warming" | "ready" | "stopping" | "failed";

export interface WarmupRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  /** A string, or any JSON value (sent as JSON). */
  readonly body: unknown;
}

export interface SupervisorConfig {
  readonly port: number;
  readonly modelServerCmd: string;
  readonly modelServerUrl: URL;
  readonly healthPath: string;
  readonly warmup: WarmupRequest | undefined;
  readonly prefetchDirs: readonly string[];
  readonly prefetchMaxBytes: number;
  readonly healthTimeoutSeconds: number;
  readonly warmupAttempts: number;
  readonly drainSeconds: number;
  /** Origins of the pages that may call POST /warmup from a browser. */
  readonly warmupOrigins: readonly string[];
}

export class SupervisorConfigError extends Error {}

export const ENV_HELP = `Environment:
  PORT                    port to listen on (Cloud Run sets it; default 8080)
  MODEL_SERVER_CMD        shell command that starts the model server (required)
  MODEL_SERVER_URL        where the model server listens, e.g. http://127.0.0.1:8188 (required)
  MODEL_HEALTH_PATH       path that answers 2xx once the server is up (default /)
  WARMUP_REQUEST          JSON {"method","path","headers","body"} sent once before ready, e.g. a one-step workflow;
                          an answer with a "prompt_id" (ComfyUI queues jobs) is followed at /history/<id> until done
  WARMUP_REQUEST_FILE     the same JSON read from a file, when WARMUP_REQUEST is unset
  PREFETCH_DIRS           colon-separated directories to read into the page cache (default /models)
  PREFETCH_MAX_BYTES      stop prefetching after this many bytes (default 17179869184 = 16 GiB; 0 disables)
  HEALTH_TIMEOUT_SECONDS  give up when the model server is not healthy by then (default 600)
  WARMUP_ATTEMPTS         warmup tries before giving up at startup (default 3)
  DRAIN_SECONDS           on SIGTERM, how long in-flight requests may take (default and most 7: Cloud Run kills the
                          instance 10 s after SIGTERM, and the model server gets the rest to stop)
  WARMUP_ORIGINS          comma-separated origins (https://app.example.com) whose pages may POST /warmup from a
                          browser; a page on another origin is refused (default: none)
Exit codes: 0 stopped by SIGTERM; 1 the model server died, never became healthy, or warmup failed; 2 bad config.`;

export function configFromEnv(env: NodeJS.ProcessEnv): SupervisorConfig {
  const problems: string[] = [];
  const int = (name: string, def: number, min: number, max: number, why = "") => {
    const raw = env[name];
    if (raw === undefined || raw === "") return def;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) problems.push(`${name} must be an integer ${min}..${max}${why ? ` (${why})` : ""}, got "${raw}"`);
    return n;
  };
  const port = int("PORT", 8080, 1, 65535);
  const modelServerCmd = env.MODEL_SERVER_CMD ?? "";
  if (!modelServerCmd.trim()) problems.push("MODEL_SERVER_CMD is required: the shell command that starts the model server");
  let modelServerUrl = new URL("http://127.0.0.1");
  try {
    modelServerUrl = new URL(env.MODEL_SERVER_URL ?? "");
    if (modelServerUrl.protocol !== "http:") problems.push(`MODEL_SERVER_URL must be an http:// URL, got "${env.MODEL_SERVER_URL}"`);
  } catch {
    problems.push(`MODEL_SERVER_URL is required: an http:// URL such as http://127.0.0.1:8188, got "${env.MODEL_SERVER_URL ?? ""}"`);
  }
  const healthPath = env.MODEL_HEALTH_PATH || "/";
  if (!healthPath.startsWith("/")) problems.push(`MODEL_HEALTH_PATH must start with "/", got "${healthPath}"`);
  let warmup: WarmupRequest | undefined;
  let warmupText = env.WARMUP_REQUEST;
  if (!warmupText && env.WARMUP_REQUEST_FILE) {
    try {
      warmupText = fs.readFileSync(env.WARMUP_REQUEST_FILE, "utf8");
    } catch (err) {
      problems.push(`WARMUP_REQUEST_FILE cannot be read: ${(err as Error).message}`);
    }
  }
  if (warmupText) {
    try {
      const w = JSON.parse(warmupText) as Partial<WarmupRequest>;
      if (typeof w !== "object" || w === null || typeof w.path !== "string" || !w.path.startsWith("/")) throw new Error('needs a "path" starting with "/"');
      warmup = { method: (w.method ?? "POST").toUpperCase(), path: w.path, headers: w.headers ?? {}, body: w.body };
    } catch (err) {
      problems.push(`WARMUP_REQUEST must be JSON {"method","path","headers","body"}: ${(err as Error).message}`);
    }
  }
  const origins = parseOriginList(env[WARMUP_ORIGINS_ENV]);
  if (origins.problems.length > 0) problems.push(`${WARMUP_ORIGINS_ENV}: ${origins.problems.join("; ")}`);
  const config: SupervisorConfig = {
    port,
    modelServerCmd,
    modelServerUrl,
    healthPath,
    warmup,
    prefetchDirs: (env.PREFETCH_DIRS ?? "/models").split(":").filter((d) => d !== ""),
    prefetchMaxBytes: int("PREFETCH_MAX_BYTES", 16 * 1024 ** 3, 0, Number.MAX_SAFE_INTEGER),
    healthTimeoutSeconds: int("HEALTH_TIMEOUT_SECONDS", 600, 1, 86_400),
    warmupAttempts: int("WARMUP_ATTEMPTS", 3, 1, 100),
    drainSeconds: int(
      "DRAIN_SECONDS",
      MAX_DRAIN_SECONDS,
      0,
      MAX_DRAIN_SECONDS,
      `Cloud Run kills the instance 10 s after SIGTERM, and the model server needs the last ${(MODEL_SERVER_STOP_MS + EXIT_MARGIN_MS) / 1000} s to stop`,
    ),
    warmupOrigins: origins.origins,
  };
  if (problems.length > 0) throw new SupervisorConfigError(problems.join("; "));
  return config;
}

const log = (severity: Severity, message: string, fields?: Record<string, unknown>) => process.stdout.write(logLine(severity, message, fields) + "\n");

/** Files under the directories, largest first (the biggest load dominates, so it is read first). */
async function listFiles(dirs: readonly string[]): Promise<{ file: string; size: number }[]> {
  const out: { file: string; size: number }[] = [];
  const walk = async (dir: string) => {
    const entries = await fs.promises.readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) out.push({ file: p, size: (await fs.promises.stat(p)).size });
    }
  };
  for (const d of dirs) await walk(d);
  return out.sort((a, b) => b.size - a.size);
}

/** Reads files into the page cache with a few parallel readers; returns the bytes read. */
export async function prefetch(dirs: readonly string[], maxBytes: number, readers = 8): Promise<number> {
  if (maxBytes <= 0) return 0;
  const files = await listFiles(dirs);
  let budget = maxBytes;
  const ranges: { file: string; start: number; end: number }[] = [];
  const slice = 64 * 1024 * 1024;
  for (const f of files) {
    const take = Math.min(f.size, budget);
    for (let s = 0; s < take; s += slice) ranges.push({ file: f.file, start: s, end: Math.min(take, s + slice) });
    budget -= take;
    if (budget <= 0) break;
  }
  let total = 0;
  let next = 0;
  const worker = async () => {
    const buf = Buffer.allocUnsafe(4 * 1024 * 1024);
    while (next < ranges.length) {
      const r = ranges[next++];
      const fh = await fs.promises.open(r.file, "r");
      try {
        for (let pos = r.start; pos < r.end; ) {
          const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, r.end - pos), pos);
          if (bytesRead === 0) break;
          pos += bytesRead;
          total += bytesRead;
        }
      } finally {
        await fh.close();
      }
    }
  };
  await Promise.all(Array.from({ length: readers }, worker));
  return total;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Signals a whole process group (0: only checks it); false when it has no process left. */
function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether a process of the group still runs. kill(2) counts zombies too (exited, waiting to be reaped by their
 * parent, which for an orphan is PID 1), so /proc tells them apart where it can (Linux).
 */
function groupRunning(pgid: number): boolean {
  if (!signalGroup(pgid, 0)) return false;
  if (!procIsOurs()) return true;
  let pids: string[];
  try {
    pids = fs.readdirSync("/proc").filter((n) => /^\d+$/.test(n));
  } catch {
    return true;
  }
  for (const pid of pids) {
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    } catch {
      continue; // exited meanwhile
    }
    // "pid (comm) state ppid pgrp ...": the command name may hold spaces and parentheses.
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(pgrp) === pgid && state !== "Z" && state !== "X") return true;
  }
  return false;
}

/** Whether /proc numbers processes as this process sees them (a container's does; a sandbox may mount another). */
let procOurs: boolean | undefined;
function procIsOurs(): boolean {
  try {
    procOurs ??= Number(fs.readFileSync("/proc/self/stat", "utf8").split(" ")[0]) === process.pid;
  } catch {
    procOurs = false;
  }
  return procOurs;
}

/** Waits until no process of the group runs, or the deadline; resolves with whether it is gone. */
async function groupGone(pgid: number, deadline: number): Promise<boolean> {
  for (;;) {
    if (!groupRunning(pgid)) return true;
    if (Date.now() >= deadline) return false;
    await sleep(50);
  }
}

/** A proxied upgrade (a WebSocket, as a rule). */
interface Tunnel {
  /** Closes it with 1001 after the model server's frame in progress; anything but an open WebSocket is just closed. */
  goAway(): void;
  destroy(): void;
}

/** One request to the model server; resolves with status and body text. */
function call(base: URL, method: string, reqPath: string, headers: Record<string, string>, body: string | undefined, timeoutMs: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(new URL(reqPath, base), { method, headers, timeout: timeoutMs }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (text += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`timed out after ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end(body);
  });
}

/** Hop-by-hop headers are for one connection, not to be forwarded (RFC 9110 §7.6.1). */
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "trailer"]);

export class Supervisor {
  phase: Phase = "starting";
  private child: ChildProcess | undefined;
  /** The model server's process group (the pid of the `sh -c` that leads it), until it is gone. */
  private group: number | undefined;
  private readonly server: http.Server;
  /** HTTP requests in progress (WebSockets are in `tunnels`). */
  private inFlight = 0;
  private readonly tunnels = new Set<Tunnel>();
  private warmupRun: Promise<number> | undefined;
  /** POST /warmup calls waiting for the startup to end: told true once warm, false if it fails or stops. */
  private readonly waitingForWarm = new Set<(warm: boolean) => void>();
  private readonly agent = new http.Agent({ keepAlive: true });
  private readonly started = Date.now();
  private stopping = false;
  /** Resolves with the process exit code. */
  readonly exited: Promise<number>;
  private exit!: (code: number) => void;

  constructor(private readonly cfg: SupervisorConfig) {
    this.exited = new Promise((r) => (this.exit = r));
    this.server = http.createServer((req, res) => this.handle(req, res));
    this.server.on("upgrade", (req, socket, head) => this.upgrade(req, socket as net.Socket, head));
  }

  async start(): Promise<void> {
    await new Promise<void>((r) => this.server.listen(this.cfg.port, r));
    log("INFO", `listening on :${this.cfg.port}; starting the model server`, { phase: this.phase });
    const prefetchStart = Date.now();
    const prefetching = prefetch(this.cfg.prefetchDirs, this.cfg.prefetchMaxBytes).then(
      (bytes) => ({ bytes, ms: Date.now() - prefetchStart }),
      (err: Error) => {
        log("WARNING", `prefetch failed: ${err.message}`);
        return { bytes: 0, ms: Date.now() - prefetchStart };
      },
    );
    // detached: a session and process group of its own, so the model server and all it starts can be signalled as one.
    this.child = spawn("/bin/sh", ["-c", this.cfg.modelServerCmd], { stdio: ["ignore", "inherit", "inherit"], detached: true });
    this.group = this.child.pid;
    // Whatever ends the supervisor (an uncaught error included), the group does not outlive it.
    process.once("exit", () => {
      if (this.group !== undefined) signalGroup(this.group, "SIGKILL");
    });
    this.child.on("error", (err) => {
      log("ERROR", `cannot start the model server with /bin/sh: ${err.message}`, { phase: this.phase });
      this.fail();
    });
    this.child.on("exit", (code, signal) => {
      if (this.stopping) return;
      log("ERROR", `model server exited (${signal ?? `code ${code}`}); exiting so Cloud Run replaces this instance`, { phase: this.phase });
      this.fail();
    });

    this.phase = "waiting-for-model-server";
    const healthy = await this.waitForHealth();
    if (!healthy) return;
    const serverReadyMs = Date.now() - this.started;

    this.phase = "warming";
    let warmupMs = 0;
    for (let attempt = 1; ; attempt++) {
      try {
        warmupMs = await this.runWarmup();
        break;
      } catch (err) {
        log("ERROR", WARMUP_FAILED_MESSAGE, { phase: this.phase, attempt, error: (err as Error).message });
        if (attempt >= this.cfg.warmupAttempts || this.stopping) return this.fail();
        await sleep(1000 * attempt);
      }
    }
    const pf = await prefetching;
    if (this.stopping) return;
    this.phase = "ready";
    this.settleWaiting(true);
    const coldStart: ColdStart = { prefetchMs: pf.ms, serverReadyMs, warmupMs, totalMs: Date.now() - this.started, bytesPrefetched: pf.bytes };
    log("INFO", READY_MESSAGE, { [COLD_START_FIELD]: coldStart });
  }

  private async waitForHealth(): Promise<boolean> {
    const deadline = this.started + this.cfg.healthTimeoutSeconds * 1000;
    while (!this.stopping && this.phase !== "failed") {
      try {
        const r = await call(this.cfg.modelServerUrl, "GET", this.cfg.healthPath, {}, undefined, 5000);
        if (r.status >= 200 && r.status < 300) return true;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        log("ERROR", `model server not healthy at ${this.cfg.healthPath} after ${this.cfg.healthTimeoutSeconds} s`, { phase: this.phase });
        this.fail();
        return false;
      }
      await sleep(250);
    }
    return false;
  }

  /** Runs the warmup request; concurrent callers share one run. Resolves with its duration in ms. */
  private runWarmup(): Promise<number> {
    this.warmupRun ??= (async () => {
      const t0 = Date.now();
      const w = this.cfg.warmup;
      if (w) {
        const body = w.body === undefined ? undefined : typeof w.body === "string" ? w.body : JSON.stringify(w.body);
        const headers = { ...(typeof w.body === "object" && w.body !== null ? { "content-type": "application/json" } : {}), ...w.headers };
        const r = await call(this.cfg.modelServerUrl, w.method, w.path, headers, body, 600_000);
        if (r.status < 200 || r.status >= 300) throw new Error(`warmup ${w.method} ${w.path} answered ${r.status}: ${r.body.slice(0, 200)}`);
        await this.awaitQueuedJob(r.body);
      }
      return Date.now() - t0;
    })().finally(() => (this.warmupRun = undefined));
    return this.warmupRun;
  }

  /**
   * ComfyUI answers POST /prompt at once with a `prompt_id` and runs the job in its queue: the model is only loaded
   * once `/history/<id>` lists the job, with a status that says whether it succeeded.
   */
  private async awaitQueuedJob(answer: string): Promise<void> {
    let id: unknown;
    try {
      id = (JSON.parse(answer) as { prompt_id?: unknown }).prompt_id;
    } catch {
      return;
    }
    if (typeof id !== "string" || id === "") return;
    const deadline = Date.now() + 600_000;
    while (Date.now() < deadline && !this.stopping) {
      const h = await call(this.cfg.modelServerUrl, "GET", `/history/${encodeURIComponent(id)}`, {}, undefined, 10_000);
      if (h.status === 200) {
        const job = (JSON.parse(h.body) as Record<string, { status?: { status_str?: string; completed?: boolean } }>)[id];
        if (job) {
          if (job.status?.status_str === "error") throw new Error(`warmup job ${id} failed in the model server's queue`);
          return;
        }
      }
      await sleep(250);
    }
    throw new Error(`warmup job ${id} did not finish in 600 s`);
  }

  private json(res: http.ServerResponse, status: number, body: unknown, headers: http.OutgoingHttpHeaders = {}): void {
    // A client that went away (a page closed while it waited) gets nothing.
    if (res.destroyed || res.writableEnded) return;
    const text = JSON.stringify(body);
    res.writeHead(status, { ...headers, "content-type": "application/json", "content-length": Buffer.byteLength(text) });
    res.end(text);
  }

  private settleWaiting(warm: boolean): void {
    for (const tell of [...this.waitingForWarm]) tell(warm);
    this.waitingForWarm.clear();
  }

  /**
   * `/warmup`, made for a page that calls it on every load. A browser's preflight (OPTIONS) and POST are answered by
   * container/warmupOrigins.ts's rule; a request without Origin (a backend, Cloud Scheduler) is not a browser's.
   */
  private warmup(req: http.IncomingMessage, res: http.ServerResponse, rerun: boolean): void {
    const origin = req.headers.origin;
    const isPreflight = req.method === "OPTIONS" && origin !== undefined && req.headers["access-control-request-method"] !== undefined;
    const cors = warmupCors(origin, this.cfg.warmupOrigins, isPreflight);
    if (!cors.allowed) {
      this.json(res, 403, { error: `pages on this origin may not call /warmup (${WARMUP_ORIGINS_ENV})` }, cors.headers);
      return;
    }
    if (req.method === "OPTIONS") {
      res.writeHead(204, isPreflight ? cors.headers : { allow: "POST, OPTIONS" });
      res.end();
      return;
    }
    if (this.phase === "ready") {
      if (!rerun) {
        this.json(res, 200, { warm: true }, cors.headers);
        return;
      }
      this.runWarmup().then(
        (warmupMs) => this.json(res, 200, { warm: true, warmupMs }, cors.headers),
        (err: Error) => {
          log("ERROR", WARMUP_FAILED_MESSAGE, { phase: this.phase, error: err.message });
          this.json(res, 502, { error: err.message }, cors.headers);
        },
      );
      return;
    }
    if (this.stopping) {
      this.json(res, 503, { phase: this.phase }, cors.headers);
      return;
    }
    // Still starting: the startup's warmup is the run this call shares. (On Cloud Run no request gets here: an
    // instance receives traffic only once its startup probe, GET /healthz, passes; Cloud Run holds the request until
    // then, https://cloud.google.com/run/docs/configuring/healthchecks. A local run sees the same from outside.)
    const since = Date.now();
    const tell = (warm: boolean) =>
      warm ? this.json(res, 200, { warm: true, waitedMs: Date.now() - since }, cors.headers) : this.json(res, 503, { phase: this.phase }, cors.headers);
    this.waitingForWarm.add(tell);
    res.on("close", () => this.waitingForWarm.delete(tell));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.inFlight++;
    res.on("close", () => this.inFlight--);
    const url = req.url ?? "/";
    if (req.method === "GET" && url === "/healthz") {
      this.json(res, this.phase === "ready" ? 200 : 503, { phase: this.phase });
      return;
    }
    const [pathname, query = ""] = url.split("?", 2);
    if (pathname === "/warmup" && (req.method === "POST" || req.method === "OPTIONS")) {
      this.warmup(req, res, new URLSearchParams(query).get("rerun") === "1");
      return;
    }
    if (this.phase !== "ready") {
      this.json(res, 503, { phase: this.phase });
      return;
    }
    const headers: http.OutgoingHttpHeaders = {};
    for (const [k, v] of Object.entries(req.headers)) if (!HOP_BY_HOP.has(k)) headers[k] = v;
    const upstream = http.request(new URL(url, this.cfg.modelServerUrl), { method: req.method, headers, agent: this.agent }, (up) => {
      const out: http.OutgoingHttpHeaders = {};
      for (const [k, v] of Object.entries(up.headers)) if (!HOP_BY_HOP.has(k)) out[k] = v;
      res.writeHead(up.statusCode ?? 502, out);
      up.pipe(res);
    });
    upstream.on("error", (err) => {
      if (!res.headersSent) this.json(res, 502, { error: `model server: ${err.message}` });
      else res.destroy(err);
    });
    // A client that goes away cancels its request, so the model server (which sees its connection close) can stop
    // computing an answer nobody will read.
    res.on("close", () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  }

  /** WebSocket (or any) upgrade: replay the request head to the model server and pipe the two sockets. */
  private upgrade(req: http.IncomingMessage, socket: net.Socket, head: Buffer): void {
    if (this.phase !== "ready") {
      socket.end("HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\ncontent-length: 0\r\n\r\n");
      return;
    }
    const target = this.cfg.modelServerUrl;
    // The model server's side goes through a relay that knows its frames, so a close frame can be put in on drain.
    const relay = new WebSocketRelay(String(req.headers.upgrade).toLowerCase() === "websocket");
    const upstream = net.connect(Number(target.port || 80), target.hostname, () => {
      const lines = [`${req.method} ${req.url} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      upstream.write(lines.join("\r\n") + "\r\n\r\n");
      if (head.length) upstream.write(head);
      socket.pipe(upstream);
      upstream.pipe(relay).pipe(socket);
    });
    let closed = false;
    let goingAway = false;
    const tunnel: Tunnel = {
      goAway: () => {
        goingAway = relay.goAway();
        if (!goingAway) tunnel.destroy();
      },
      destroy: () => {
        if (closed) return;
        closed = true;
        this.tunnels.delete(tunnel);
        socket.destroy();
        upstream.destroy();
      },
    };
    this.tunnels.add(tunnel);
    // Going away, the relay ends the client's side itself once its close frame is out; the model server's side may
    // close first (it is being stopped).
    const upstreamGone = () => {
      if (!goingAway) tunnel.destroy();
    };
    upstream.on("error", upstreamGone).on("close", upstreamGone);
    socket.on("error", tunnel.destroy).on("close", tunnel.destroy);
  }

  /**
   * SIGTERM: stop accepting, drain HTTP requests (bounded), close WebSockets with 1001, stop the model server, exit 0;
   * all before Cloud Run's SIGKILL. WebSockets stay open while the requests drain (a ComfyUI client follows its job
   * over one) but do not hold the drain.
   */
  async shutdown(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    const sigterm = Date.now();
    this.phase = "stopping";
    this.settleWaiting(false);
    log("INFO", `SIGTERM: draining ${this.inFlight} request(s) for up to ${this.cfg.drainSeconds} s, then closing ${this.tunnels.size} WebSocket(s) and stopping the model server`);
    this.server.close();
    const deadline = sigterm + this.cfg.drainSeconds * 1000;
    while (this.inFlight > 0 && Date.now() < deadline) await sleep(50);
    if (this.inFlight > 0) log("WARNING", `stopping with ${this.inFlight} request(s) still running`);
    for (const t of [...this.tunnels]) t.goAway();
    this.server.closeAllConnections();
    await this.stopModelServer(sigterm + SIGTERM_TO_SIGKILL_MS - EXIT_MARGIN_MS);
    for (const t of [...this.tunnels]) t.destroy();
    this.exit(0);
  }

  /** SIGTERM to the model server's whole group, SIGKILL at `killAt` if any of it still runs. */
  private async stopModelServer(killAt: number): Promise<void> {
    const group = this.group;
    if (group === undefined) return;
    if (signalGroup(group, "SIGTERM") && !(await groupGone(group, killAt))) {
      log("WARNING", "the model server did not stop on SIGTERM in time; killing its process group");
      signalGroup(group, "SIGKILL");
      // SIGKILL acts at once, except on a process in an uninterruptible wait (a GPU driver call): bounded, too. What
      // survives it gets one more SIGKILL as the supervisor exits.
      if (!(await groupGone(group, Date.now() + EXIT_MARGIN_MS / 2))) {
        log("WARNING", "processes of the model server's group survived SIGKILL");
        return;
      }
    }
    this.group = undefined;
  }

  private fail(): void {
    if (this.phase === "failed") return;
    this.phase = "failed";
    this.stopping = true;
    this.settleWaiting(false);
    this.server.close();
    this.server.closeAllConnections();
    for (const t of [...this.tunnels]) t.destroy();
    void this.stopModelServer(Date.now() + FAIL_STOP_MS).then(() => this.exit(1));
  }
}

export async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(`usage: warmstart-supervisor\n\nRuns the model server and reports ready only once it is warm.\n\n${ENV_HELP}`);
    return 0;
  }
  let cfg: SupervisorConfig;
  try {
    cfg = configFromEnv(env);
  } catch (err) {
    log("ERROR", `bad configuration: ${(err as Error).message}`);
    return 2;
  }
  const supervisor = new Supervisor(cfg);
  process.on("SIGTERM", () => void supervisor.shutdown());
  process.on("SIGINT", () => void supervisor.shutdown());
  try {
    await supervisor.start();
  } catch (err) {
    log("ERROR", `cannot start: ${(err as Error).message}`);
    return 1;
  }
  return supervisor.exited;
}

if (require.main === module) {
  void main(process.argv.slice(2), process.env).then((code) => process.exit(code));
}
