/**
 * Runs the bundled supervisor (as the image does: plain node) against the fake model server, for
 * test/supervisor*.test.ts and test/slow/supervisor*.test.ts. The model server command has no `exec`: /bin/sh (dash on Debian and Ubuntu)
 * then stays between the supervisor and the model server, as it does in the image, where MODEL_SERVER_CMD is whatever
 * the user wrote.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { bundleContainer } from "../../components/image/containerBundle";
import { afterEach, beforeAll } from "vitest";

export const ROOT = path.resolve(__dirname, "..", "..");
const FAKE = path.join(__dirname, "fakeModelServer.mjs");
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), "warmstart-sup-"));
export const BUNDLE = path.join(TMP, "supervisor.js");

/** Bundles the supervisor once per test file and stops what each test started. */
export function useSupervisor(): void {
  beforeAll(async () => {
    // The image's bundle recipe, into this run's folder.
    await bundleContainer(ROOT, path.dirname(BUNDLE), { supervisor: "container/supervisor.ts" });
  });
  afterEach(cleanUp);
}

export const freePort = () =>
  new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });

/** A process as /proc shows it. */
export interface Proc {
  pid: number;
  ppid: number;
  pgrp: number;
  /** R, S, D, ... Z for a zombie (exited, not yet reaped by its parent). */
  state: string;
  comm: string;
}

export function proc(pid: number): Proc | undefined {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
  const close = stat.lastIndexOf(")");
  const [state, ppid, pgrp] = stat.slice(close + 2).split(" ");
  return { pid, ppid: Number(ppid), pgrp: Number(pgrp), state, comm: stat.slice(stat.indexOf("(") + 1, close) };
}

export function procs(): Proc[] {
  return fs
    .readdirSync("/proc")
    .filter((n) => /^\d+$/.test(n))
    .map((n) => proc(Number(n)))
    .filter((p): p is Proc => p !== undefined);
}

/** Whether the process runs: it exists and is not a zombie (this machine's PID 1 does not reap orphans). */
export const running = (pid: number | undefined) => pid !== undefined && !["Z", "X", "x"].includes(proc(pid)?.state ?? "Z");

/** Running processes of a process group. */
export const groupRunning = (pgrp: number) => procs().filter((p) => p.pgrp === pgrp && running(p.pid));

export function descendants(pid: number, all = procs()): Proc[] {
  const kids = all.filter((p) => p.ppid === pid);
  return kids.flatMap((k) => [k, ...descendants(k.pid, all)]);
}

export interface Running {
  child: ChildProcess;
  port: number;
  modelPort: number;
  lines: () => Record<string, any>[];
  exit: Promise<number | null>;
  /** The fake model server's pid and its helper's, once it wrote them (as its PID namespace numbers them). */
  pids: () => { pid: number; helper?: number } | undefined;
  namespaced: boolean;
}

/** A PID namespace with its own /proc, as a container has. */
const UNSHARE = ["unshare", "--pid", "--fork", "--kill-child", "--mount-proc"];
/** Whether this machine lets the tests make one (it needs root: CI runs as root). */
export const canUnshare = spawnSync(UNSHARE[0], [...UNSHARE.slice(1), "true"], { stdio: "ignore" }).status === 0;

/** The image's ENTRYPOINT (container/Dockerfile), with its paths mapped to this checkout. */
export function imageEntrypoint(): string[] {
  const dockerfile = fs.readFileSync(path.join(ROOT, "container/Dockerfile"), "utf8");
  const entrypoint = JSON.parse(/^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)![1]) as string[];
  const here: Record<string, string> = {
    "/opt/warmstart/node": process.execPath,
    "/opt/warmstart/supervisor.js": BUNDLE,
    "/opt/warmstart/init.sh": path.join(ROOT, "container/init.sh"),
  };
  return entrypoint.map((a) => here[a] ?? a);
}

const started: Running[] = [];
let starts = 0;

/** Kills what a test left running: the supervisor, then the fake and its helper. */
function cleanUp(): void {
  for (const s of started.splice(0)) {
    if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill("SIGKILL");
    // In a PID namespace of its own the fake's pids are not this machine's; unshare --kill-child ends that namespace.
    const pids = s.namespaced ? undefined : s.pids();
    for (const pid of [pids?.pid, pids?.helper]) {
      if (pid !== undefined && running(pid)) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // gone meanwhile
        }
      }
    }
  }
}

/**
 * Starts the supervisor with the fake model server. `env` goes to the supervisor, `fake` to the model server.
 * `asImage`: run the image's ENTRYPOINT as PID 1 of a PID namespace of its own, as in a container (needs `canUnshare`).
 */
export async function startSupervisor(env: Record<string, string> = {}, fake: Record<string, string> = {}, opts: { asImage?: boolean } = {}): Promise<Running> {
  const [port, modelPort] = [await freePort(), await freePort()];
  const pidFile = path.join(TMP, `fake-${process.pid}-${++starts}.json`);
  const fakeEnv = Object.entries({ FAKE_PORT: String(modelPort), FAKE_PID_FILE: pidFile, ...fake })
    .map(([k, v]) => `${k}=${v}`)
    .join(" ");
  const [cmd, ...args] = opts.asImage ? [...UNSHARE, ...imageEntrypoint()] : [process.execPath, BUNDLE];
  const child = spawn(cmd, args, {
    env: {
      PATH: process.env.PATH,
      PORT: String(port),
      MODEL_SERVER_CMD: `env ${fakeEnv} ${process.execPath} ${FAKE}`,
      MODEL_SERVER_URL: `http://127.0.0.1:${modelPort}`,
      MODEL_HEALTH_PATH: "/health",
      WARMUP_REQUEST: JSON.stringify({ method: "POST", path: "/prompt", body: { steps: 1 } }),
      PREFETCH_DIRS: "/nonexistent",
      ...env,
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  const exit = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  const lines = () =>
    out
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l));
  const pids = () => {
    try {
      return JSON.parse(fs.readFileSync(pidFile, "utf8")) as { pid: number; helper?: number };
    } catch {
      return undefined;
    }
  };
  const s = { child, port, modelPort, lines, exit, pids, namespaced: opts.asImage === true };
  started.push(s);
  return s;
}

export function get(port: number, p: string, method = "GET", body?: string, headers: http.OutgoingHttpHeaders = {}): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path: p, method, headers, agent: false }, (res) => {
      let text = "";
      res.on("data", (d) => (text += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text, headers: res.headers }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

export async function until(check: () => Promise<boolean> | boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await Promise.resolve(check()).catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("condition not met in time");
}

export const ready = async (s: Running) => until(async () => (await get(s.port, "/healthz")).status === 200);

/** The fake model server's counters. */
export const fakeStats = async (s: Running) => JSON.parse((await get(s.modelPort, "/stats")).body) as { warmups: number; slowStarted: number; aborted: number };
