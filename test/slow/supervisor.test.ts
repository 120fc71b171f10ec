import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, test } from "vitest";
import { COLD_START_FIELD, COLD_START_PHASES, READY_MESSAGE, WARMUP_FAILED_MESSAGE } from "../../container/logContract";
import { BUNDLE, canUnshare, descendants, fakeStats, get, groupRunning, proc, ready, running, startSupervisor, until, useSupervisor, type Running } from "../support/supervisorRun";

useSupervisor();

/** The fake model server's pids, once it has written them, and its process group's id. */
async function fakePids(s: Running): Promise<{ pid: number; helper?: number; pgrp: number }> {
  await until(() => s.pids() !== undefined && proc(s.pids()!.pid) !== undefined);
  const pids = s.pids()!;
  return { ...pids, pgrp: proc(pids.pid)!.pgrp };
}

/** Nothing of the model server's process group runs any more: not the model server, its helper, nor the shell. */
function expectGroupGone(pids: { pid: number; helper?: number; pgrp: number }): void {
  expect([running(pids.pid), running(pids.helper)]).toEqual([false, false]);
  // Its own group, not the test runner's (the supervisor must not have left it in ours).
  expect(pids.pgrp).not.toBe(proc(process.pid)!.pgrp);
  expect(groupRunning(pids.pgrp)).toEqual([]);
}

/** Opens a WebSocket through the supervisor and waits until it echoes. */
async function openWebSocket(s: Running): Promise<{ ws: WebSocket; closed: Promise<number> }> {
  const ws = new WebSocket(`ws://127.0.0.1:${s.port}/ws`);
  const closed = new Promise<number>((r) => ws.addEventListener("close", (e) => r(e.code)));
  const echoed = new Promise<string>((resolve, reject) => {
    ws.addEventListener("message", (e) => resolve(String(e.data)), { once: true });
    ws.addEventListener("error", () => reject(new Error("WebSocket error")), { once: true });
  });
  ws.addEventListener("open", () => ws.send("hello"), { once: true });
  expect(await echoed).toBe("echo:hello");
  return { ws, closed };
}

describe("warm-start supervisor", () => {
  test("answers 503 with the phase until the model server is up and warm, then 200, and logs the cold start", async () => {
    const s = await startSupervisor({}, { FAKE_START_DELAY_MS: "1200" });
    await until(async () => (await get(s.port, "/healthz")).status === 503);
    expect(JSON.parse((await get(s.port, "/healthz")).body)).toEqual({ phase: "waiting-for-model-server" });
    expect((await get(s.port, "/anything")).status).toBe(503);
    await ready(s);
    const stats = JSON.parse((await get(s.modelPort, "/stats")).body);
    expect(stats.warmups).toBe(1);
    const readyLine = s.lines().find((l) => l.message === READY_MESSAGE)!;
    expect(readyLine.severity).toBe("INFO");
    for (const phase of COLD_START_PHASES) expect(readyLine[COLD_START_FIELD][phase]).toBeGreaterThanOrEqual(0);
    expect(readyLine[COLD_START_FIELD].serverReadyMs).toBeGreaterThanOrEqual(1200);
    expect(readyLine[COLD_START_FIELD].totalMs).toBeGreaterThanOrEqual(readyLine[COLD_START_FIELD].serverReadyMs);
  });

  test("reads the weight files into the page cache, bounded by PREFETCH_MAX_BYTES", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "warmstart-models-"));
    fs.mkdirSync(path.join(dir, "unet"));
    fs.writeFileSync(path.join(dir, "unet", "a.safetensors"), Buffer.alloc(3_000_000, 1));
    fs.writeFileSync(path.join(dir, "b.safetensors"), Buffer.alloc(1_000_000, 2));
    const all = await startSupervisor({ PREFETCH_DIRS: dir });
    await ready(all);
    expect(all.lines().find((l) => l.message === READY_MESSAGE)![COLD_START_FIELD].bytesPrefetched).toBe(4_000_000);
    const bounded = await startSupervisor({ PREFETCH_DIRS: dir, PREFETCH_MAX_BYTES: "2500000" });
    await ready(bounded);
    expect(bounded.lines().find((l) => l.message === READY_MESSAGE)![COLD_START_FIELD].bytesPrefetched).toBe(2_500_000);
  });

  test("a warmup that keeps failing never reports ready, stops the model server and exits 1", async () => {
    const s = await startSupervisor({ WARMUP_ATTEMPTS: "2" }, { FAKE_WARMUP_FAILS: "always", FAKE_HELPER: "1" });
    const pids = await fakePids(s);
    const seen: number[] = [];
    const poll = setInterval(() => void get(s.port, "/healthz").then((r) => seen.push(r.status), () => undefined), 100);
    expect(await s.exit).toBe(1);
    clearInterval(poll);
    expect(seen).not.toContain(200);
    expect(s.lines().filter((l) => l.message === WARMUP_FAILED_MESSAGE)).toHaveLength(2);
    expectGroupGone(pids);
  });

  test("a warmup that fails once is retried", async () => {
    const s = await startSupervisor({}, { FAKE_WARMUP_FAILS: "1" });
    await ready(s);
    expect(s.lines().filter((l) => l.message === WARMUP_FAILED_MESSAGE)).toHaveLength(1);
  });

  test("exits 1 when the model server crashes, so Cloud Run replaces the instance, and leaves none of its processes", async () => {
    const s = await startSupervisor({}, { FAKE_CRASH_AFTER_MS: "1500", FAKE_HELPER: "1" });
    const pids = await fakePids(s);
    await ready(s);
    expect(await s.exit).toBe(1);
    expect(s.lines().some((l) => l.severity === "ERROR" && /model server exited \(code 3\)/.test(l.message))).toBe(true);
    expectGroupGone(pids);
  });

  test("exits 1 when the model server never becomes healthy", async () => {
    const s = await startSupervisor({ HEALTH_TIMEOUT_SECONDS: "1" }, { FAKE_START_DELAY_MS: "60000" });
    const pids = await fakePids(s);
    expect(await s.exit).toBe(1);
    expect(s.lines().some((l) => /not healthy at \/health after 1 s/.test(l.message))).toBe(true);
    expectGroupGone(pids);
  });

  test("proxies requests with their bodies, statuses and headers", async () => {
    const s = await startSupervisor();
    await ready(s);
    const big = "x".repeat(3_000_000);
    const echo = await get(s.port, "/echo", "POST", big);
    expect([echo.status, echo.body.length, echo.headers["x-echo"]]).toEqual([200, big.length, "1"]);
    expect((await get(s.port, "/missing")).status).toBe(404);
  });

  test("a client that goes away aborts its request to the model server", async () => {
    const s = await startSupervisor();
    await ready(s);
    const req = http.request({ host: "127.0.0.1", port: s.port, path: "/slow?ms=60000", agent: false });
    req.on("error", () => undefined);
    req.end();
    await until(async () => (await fakeStats(s)).slowStarted === 1);
    req.destroy();
    await until(async () => (await fakeStats(s)).aborted === 1);
  });

  test("pipes WebSockets both ways", async () => {
    const s = await startSupervisor();
    await ready(s);
    const { ws, closed } = await openWebSocket(s);
    ws.close(1000);
    expect(await closed).toBe(1000);
  });

  test("POST /warmup?rerun=1 runs the warmup again; concurrent calls share one run", async () => {
    const s = await startSupervisor();
    await ready(s);
    const [a, b] = await Promise.all([get(s.port, "/warmup?rerun=1", "POST"), get(s.port, "/warmup?rerun=1", "POST")]);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(JSON.parse(a.body).warmupMs).toBeGreaterThanOrEqual(100);
    expect(JSON.parse((await get(s.modelPort, "/stats")).body).warmups).toBe(2); // startup + one shared run
  });

  test("POST /warmup on a warm instance answers at once and leaves the model server alone", async () => {
    const s = await startSupervisor();
    await ready(s);
    const r = await get(s.port, "/warmup", "POST");
    expect([r.status, JSON.parse(r.body)]).toEqual([200, { warm: true }]);
    expect(JSON.parse((await get(s.modelPort, "/stats")).body).warmups).toBe(1);
  });

  test("a POST /warmup waiting on the startup is answered 503 when the startup's warmup fails", async () => {
    const s = await startSupervisor({ WARMUP_ATTEMPTS: "1" }, { FAKE_START_DELAY_MS: "500", FAKE_WARMUP_FAILS: "always" });
    await until(async () => (await get(s.port, "/healthz")).status === 503);
    const r = await get(s.port, "/warmup", "POST");
    expect([r.status, JSON.parse(r.body)]).toEqual([503, { phase: "failed" }]);
    expect(await s.exit).toBe(1);
  });

  test("on SIGTERM lets an in-flight request finish, refuses new ones, stops the model server and exits 0", async () => {
    const s = await startSupervisor({}, { FAKE_HELPER: "1" });
    const pids = await fakePids(s);
    await ready(s);
    const slow = get(s.port, "/slow?ms=1500");
    await until(async () => (await fakeStats(s)).slowStarted === 1);
    s.child.kill("SIGTERM");
    await until(() => get(s.port, "/healthz").then(() => false, (err: Error) => /ECONNREFUSED/.test(err.message)));
    expect(await slow).toMatchObject({ status: 200, body: "slow done" });
    expect(await s.exit).toBe(0);
    await expect(get(s.modelPort, "/health")).rejects.toThrow(/ECONNREFUSED/);
    expectGroupGone(pids);
  });

  test("on SIGTERM an open WebSocket does not hold the drain: it is closed with 1001 (going away)", async () => {
    const s = await startSupervisor({ DRAIN_SECONDS: "7" });
    await ready(s);
    const { closed } = await openWebSocket(s);
    const t0 = Date.now();
    s.child.kill("SIGTERM");
    expect(await closed).toBe(1001);
    expect(await s.exit).toBe(0);
    // Well under the 7 s drain it would have held before.
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  test("on SIGTERM a POST /warmup still waiting on the startup is answered 503 at once and does not hold the drain", async () => {
    const s = await startSupervisor({ DRAIN_SECONDS: "7" }, { FAKE_START_DELAY_MS: "60000" });
    await until(async () => (await get(s.port, "/healthz")).status === 503);
    const waiting = get(s.port, "/warmup", "POST");
    await new Promise((r) => setTimeout(r, 200));
    const t0 = Date.now();
    s.child.kill("SIGTERM");
    const r = await waiting;
    expect([r.status, JSON.parse(r.body)]).toEqual([503, { phase: "stopping" }]);
    expect(await s.exit).toBe(0);
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  test("the drain on SIGTERM is bounded by DRAIN_SECONDS", async () => {
    const s = await startSupervisor({ DRAIN_SECONDS: "1" });
    await ready(s);
    void get(s.port, "/slow?ms=20000").catch(() => undefined);
    await until(async () => (await fakeStats(s)).slowStarted === 1);
    const t0 = Date.now();
    s.child.kill("SIGTERM");
    expect(await s.exit).toBe(0);
    expect(Date.now() - t0).toBeLessThan(8000);
  });

  test("bad configuration exits 2 naming each variable", async () => {
    const child = spawn(process.execPath, [BUNDLE], { env: { PORT: "x", MODEL_SERVER_URL: "nope" }, stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    const code = await new Promise((r) => child.once("exit", r));
    expect(code).toBe(2);
    expect(out).toMatch(/PORT must be an integer 1\.\.65535, got \\"x\\"; MODEL_SERVER_CMD is required.*MODEL_SERVER_URL is required/);
  });

  test("a drain that leaves the model server no time before Cloud Run's SIGKILL is bad configuration", async () => {
    const child = spawn(process.execPath, [BUNDLE], { env: { MODEL_SERVER_CMD: "true", MODEL_SERVER_URL: "http://127.0.0.1:1", DRAIN_SECONDS: "8" }, stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    expect(await new Promise((r) => child.once("exit", r))).toBe(2);
    expect(out).toMatch(/DRAIN_SECONDS must be an integer 0\.\.7 .*10 s after SIGTERM.*got \\"8\\"/);
  });
});

describe("ComfyUI's queued warmup", () => {
  test("waits for the queued job in /history before reporting ready", async () => {
    const s = await startSupervisor({}, { FAKE_QUEUED: "1" });
    await ready(s);
    expect(s.lines().find((l) => l.message === READY_MESSAGE)![COLD_START_FIELD].warmupMs).toBeGreaterThanOrEqual(800);
  });

  test("a queued job that errors is a failed warmup", async () => {
    const s = await startSupervisor({ WARMUP_ATTEMPTS: "1" }, { FAKE_QUEUED: "1", FAKE_WARMUP_FAILS: "always" });
    expect(await s.exit).toBe(1);
    expect(s.lines().find((l) => l.message === WARMUP_FAILED_MESSAGE)!.error).toMatch(/warmup job job-1 failed in the model server's queue/);
  });

  test("WARMUP_REQUEST_FILE reads the request from a file", async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "warmup-")), "warmup.json");
    fs.writeFileSync(file, JSON.stringify({ path: "/prompt", body: { prompt: {} } }));
    const s = await startSupervisor({ WARMUP_REQUEST: "", WARMUP_REQUEST_FILE: file });
    await ready(s);
    expect(JSON.parse((await get(s.modelPort, "/stats")).body).warmups).toBe(1);
  });
});

describe("the image's entrypoint as PID 1", () => {
  test("reaps the orphans the model server leaves, and passes SIGTERM on to the supervisor", async () => {
    // A PID namespace needs unshare(1) with CAP_SYS_ADMIN: root, as in CI (.ci/run). Without it this fails saying so.
    expect(canUnshare, "needs `unshare --pid --fork --mount-proc` (run the tests as root)").toBe(true);
    // Each short-lived orphan is re-parented to PID 1 of the container; it stays a zombie unless PID 1 waits for it.
    const s = await startSupervisor({}, { FAKE_ORPHANS: "3" }, { asImage: true });
    await ready(s);
    const init = descendants(s.child.pid!)[0];
    const orphans = () => descendants(init.pid).filter((p) => p.comm === "sleep");
    await until(() => orphans().length === 3 && orphans().every((p) => p.ppid === init.pid));
    await get(s.modelPort, "/orphans/exit", "POST");
    // Once they exit, none is left, not even as a zombie.
    await until(() => orphans().length === 0);
    process.kill(init.pid, "SIGTERM");
    expect(await s.exit).toBe(0);
    expect(s.lines().some((l) => /^SIGTERM: draining/.test(l.message))).toBe(true);
  });
});
