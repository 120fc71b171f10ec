import * as http from "node:http";
import { expect, test } from "vitest";
import { fakeStats, groupRunning, proc, ready, running, startSupervisor, until, useSupervisor } from "../support/supervisorRun";

useSupervisor();

// Cloud Run SIGKILLs the container 10 s after SIGTERM (https://cloud.google.com/run/docs/container-contract).
// The defaults are under test here: a 7 s drain, then the model server's stop; ~9 s in all, hence the slow suite.
test("on SIGTERM everything is done within Cloud Run's 10 s: a hung request, an open WebSocket, a model server that ignores SIGTERM", async () => {
  const s = await startSupervisor({}, { FAKE_IGNORE_TERM: "1", FAKE_HELPER: "1" });
  await until(() => s.pids() !== undefined);
  const { pid, helper } = s.pids()!;
  const group = proc(pid)!.pgrp;
  await ready(s);

  const ws = new WebSocket(`ws://127.0.0.1:${s.port}/ws`);
  const wsClosed = new Promise<number>((r) => ws.addEventListener("close", (e) => r(e.code)));
  await new Promise((r) => ws.addEventListener("open", r, { once: true }));
  const hung = new Promise<string>((resolve) => {
    const req = http.request({ host: "127.0.0.1", port: s.port, path: "/slow?ms=60000", agent: false }, (res) => res.resume().on("end", () => resolve("answered")));
    req.on("error", (err) => resolve(err.message));
    req.end();
  });
  await until(async () => (await fakeStats(s)).slowStarted === 1);

  const t0 = Date.now();
  s.child.kill("SIGTERM");
  expect(await s.exit).toBe(0);
  expect(Date.now() - t0).toBeLessThan(10_000);
  expect(await wsClosed).toBe(1001);
  expect(await hung).toMatch(/socket hang up|ECONNRESET/);
  expect(s.lines().some((l) => /did not stop on SIGTERM in time; killing its process group/.test(l.message))).toBe(true);
  expect([running(pid), running(helper), groupRunning(group).length]).toEqual([false, false, 0]);
});
