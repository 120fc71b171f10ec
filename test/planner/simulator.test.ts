/**
 * The planner's simulator (planner/simulator.ts): Cloud Run's scaling and billing replayed on a request log.
 * Apart from test/planner/recommender.test.ts so that mutation testing runs the simulator's mutants against these quick tests
 * (docs/testing.md).
 */
import { describe, expect, test } from "vitest";
import { describeSimulation, simulate } from "../../planner/simulator";
import { buildWarmSchedule, desiredMinInstances, parseWarmWindows } from "../../components/schedule/warmWindows";
import { burstyLog, H, OPTS, SCHED, T0 } from "../support/plannerLogs";

describe("simulator", () => {
  test("always warm with one instance: no cold request after the first", () => {
    const times = burstyLog(7, [3, 9, 18, 21], 15, 20_000);
    const r = simulate(times, () => 1, { ...OPTS, maxInstances: 1 });
    expect(r.coldRequests).toBeLessThanOrEqual(1);
  });

  test("scale-to-zero bills exactly cold start + service + idle tail per isolated request", () => {
    const r = simulate([T0 + H, T0 + 5 * H, T0 + 10 * H], () => 0, OPTS);
    expect(r.coldRequests).toBe(3);
    expect(r.waitP50Seconds).toBe(120);
    expect(r.billedInstanceHours * 3600).toBeCloseTo(3 * (120 + 20 + 900), 6);
    expect(r.floorInstanceHours).toBe(0);
  });

  test("an idle instance is gone at its idle expiry: a request arriving exactly then is cold, one a second earlier warm", () => {
    // Served from +120 s to +140 s, kept 900 s idle: it expires at +1040 s, 20 s past a minute.
    const expiry = T0 + H + (120 + 20 + 900) * 1000;
    const at = (t: number) => simulate([T0 + H, t], () => 0, { ...OPTS, maxInstances: 1 });
    expect(at(expiry - 1000).coldRequests).toBe(1);
    expect(at(expiry).coldRequests).toBe(2);
    expect(at(expiry).startsOnDemand).toBe(2);
    // The same on a minute: +1080 s.
    const onMinute = (t: number) => simulate([T0 + H + 40_000, t], () => 0, { ...OPTS, maxInstances: 1 });
    expect(onMinute(T0 + H + 1_080_000).coldRequests).toBe(2);
    expect(onMinute(T0 + H + 1_079_000).coldRequests).toBe(1);
  });

  test("every figure of a warm replay: the floor instance billed from the first minute to the end of the last request's idle tail", () => {
    // The last request at +40 s; its start, ten services and idle time end at +21:00 exactly; the replay runs to +22:00.
    const r = simulate([T0 + H, T0 + H + 40_000], () => 1, { ...OPTS, maxInstances: 1 });
    expect(r).toEqual({
      requests: 2,
      coldRequests: 0,
      coldFraction: 0,
      waitMeanSeconds: 0,
      waitP50Seconds: 0,
      waitP95Seconds: 0,
      billedInstanceHours: 22 / 60,
      floorInstanceHours: 22 / 60,
      startsOnDemand: 0,
      periodDays: (22 * 60) / 86_400,
    });
  });

  test("waits: the median and the 95th percentile of the sorted waits, whatever the arrival order", () => {
    // Four requests 10 s apart queue behind one starting instance: waits 120, 130, 140, 150 s, all cold.
    const queued = simulate([0, 10, 20, 30].map((s) => T0 + H + s * 1000), () => 0, { ...OPTS, maxInstances: 1 });
    expect([queued.coldFraction, queued.waitMeanSeconds, queued.waitP50Seconds, queued.waitP95Seconds]).toEqual([1, 135, 140, 150]);
    // One cold request, then two warm ones: the worst wait comes first and is still the 95th percentile.
    const r = simulate([T0 + H, T0 + H + 600_000, T0 + H + 660_000], () => 0, { ...OPTS, maxInstances: 1 });
    expect([r.coldRequests, r.coldFraction, r.waitP50Seconds, r.waitP95Seconds]).toEqual([1, 1 / 3, 0, 120]);
    expect(r.startsOnDemand).toBe(1);
  });

  test("a request that would wait longer behind the starting instance than a new start takes gets its own instance; each is billed from its start to its idle expiry", () => {
    // The second request, 1 s later, would wait 139 s for the first instance (starting, then serving the first):
    // a new one is ready in 120 s. Each: start, one service, 900 s idle = 1040 s billed.
    const r = simulate([T0 + H, T0 + H + 1000], () => 0, OPTS);
    expect(r.startsOnDemand).toBe(2);
    expect([r.waitP50Seconds, r.waitP95Seconds]).toEqual([120, 120]);
    expect(r.billedInstanceHours * 3600).toBeCloseTo(2 * 1040, 6);
  });

  test("a prewarm in the same minute as an idle instance's expiry finds it gone and starts one", () => {
    // Served +120..+140 s; gone at +1040 s. A prewarm at +1050 s starts a new instance; the request at +1200 s is warm.
    const r = simulate([T0 + H, T0 + H + 1_200_000], () => 0, { ...OPTS, maxInstances: 1 }, [T0 + H + 1_050_000]);
    expect(r.startsOnDemand).toBe(2);
    expect(r.coldRequests).toBe(1);
  });

  test("a request that would wait exactly a cold start behind a busy warm instance waits for it, warm", () => {
    // The warm instance serves the first request for 130 s; the second, 10 s in, would wait 120 s: as long as a start.
    const times = [T0 + H, T0 + H + 10_000];
    const o = { ...OPTS, serviceSeconds: 130 };
    const onDemand = simulate(times, () => 1, o);
    expect([onDemand.coldRequests, onDemand.waitP95Seconds, onDemand.startsOnDemand]).toEqual([0, 120, 1]);
    const waitFirst = simulate(times, () => 1, { ...o, scaleOut: "wait-first" });
    expect([waitFirst.coldRequests, waitFirst.waitP95Seconds, waitFirst.startsOnDemand]).toEqual([0, 120, 0]);
  });

  test("instances the level raises start cold: a request a minute after the window opens waits the rest of the start", () => {
    const opens = T0 + H;
    // A request half an hour before: its instance has idled out by the time the window opens.
    const r = simulate([opens - 1_800_000, opens + 60_000], (t) => (t >= opens ? 1 : 0), { ...OPTS, maxInstances: 1 });
    expect([r.coldRequests, r.waitP95Seconds, r.startsOnDemand]).toEqual([2, 120, 1]);
    expect(r.waitMeanSeconds).toBe((120 + 60) / 2);
  });

  test("the assumptions are printed with every result", () => {
    expect(describeSimulation(OPTS)).toBe(
      "simulated: each request 20 s on an instance serving 1 at a time, 120 s cold start, idle instances kept 15 min and billed, at most 2 instances, scale-out on-demand",
    );
    expect(describeSimulation({ ...OPTS, concurrency: 4, scaleOut: "wait-first" })).toMatch(/serving 4 at a time, .* scale-out wait-first$/);
  });

  test("a request behind a starting instance is cold and waits the remaining start time", () => {
    const r = simulate([T0 + H, T0 + H + 30_000], () => 0, { ...OPTS, maxInstances: 1 });
    expect(r.coldRequests).toBe(2);
    expect(r.waitMeanSeconds).toBe((120 + 110) / 2);
  });

  test("on-demand (documented) starts an instance for a request that finds none free; wait-first queues behind a busy one", () => {
    // A warm instance busy for 60 s; a second request arrives 10 s in.
    const times = [T0 + H, T0 + H + 10_000];
    const o = { ...OPTS, serviceSeconds: 60 };
    const onDemand = simulate(times, () => 1, o);
    const waitFirst = simulate(times, () => 1, { ...o, scaleOut: "wait-first" });
    expect(onDemand.startsOnDemand).toBe(1);
    expect(waitFirst.startsOnDemand).toBe(0);
    expect(waitFirst.billedInstanceHours).toBeLessThan(onDemand.billedInstanceHours);
    // The queued request waits 50 s either way (the busy instance frees before a new one could start).
    expect(onDemand.waitP95Seconds).toBe(50);
    expect(waitFirst.waitP95Seconds).toBe(50);
  });

  test("concurrency N: one instance serves N requests at once", () => {
    const times = [T0 + H, T0 + H + 1000, T0 + H + 2000];
    expect(simulate(times, () => 1, { ...OPTS, concurrency: 3 }).startsOnDemand).toBe(0);
    expect(simulate(times, () => 1, { ...OPTS, concurrency: 1, maxInstances: 3 }).startsOnDemand).toBe(2);
  });

  test("a prewarm before the first request starts the instance early: the request waits only the rest of the start", () => {
    const r = simulate([T0 + H], () => 0, OPTS, [T0 + H - 30_000]);
    expect(r.coldRequests).toBe(1);
    expect(r.waitP50Seconds).toBe(90);
    expect(simulate([T0 + H], () => 0, OPTS, [T0 + H - 200_000]).coldRequests).toBe(0);
  });

  test("cost grows with window length, and cold requests do not", () => {
    const times = burstyLog(14, [8, 10, 12, 14, 16, 18, 20]);
    let lastCost = -1;
    let lastCold = Infinity;
    for (const end of ["11:00", "14:00", "17:00", "21:00"]) {
      const s = buildWarmSchedule(parseWarmWindows(`daily 07:00-${end}`), "UTC", SCHED);
      const r = simulate(times, (t) => desiredMinInstances(s, new Date(t)), OPTS);
      expect(r.billedInstanceHours, end).toBeGreaterThanOrEqual(lastCost);
      expect(r.coldRequests, end).toBeLessThanOrEqual(lastCold);
      lastCost = r.billedInstanceHours;
      lastCold = r.coldRequests;
    }
    expect(lastCold).toBe(0);
  });

  test("a warm window without traffic is billed exactly its floor: its instance to the window's end, not its last minute's start", () => {
    // One hour warm from 01:00, requests only at 00:00 and 03:00 (each 120 s start + 20 s + 900 s idle = 1040 s).
    const level = (t: number) => (t >= T0 + H && t < T0 + 2 * H ? 1 : 0);
    const r = simulate([T0, T0 + 3 * H], level, OPTS);
    expect(r.floorInstanceHours).toBe(1);
    expect(r.billedInstanceHours * 3600).toBeCloseTo(3600 + 2 * 1040, 6);
  });

  test("when a burst's extra instance idles out, the warm window's instance stays: the next request is warm", () => {
    // Warm all along (level 1). 00:01:00 is served by the floor instance A until 00:01:20; 00:01:05 finds A busy and
    // starts B (ready 00:03:05; it waits for A instead); 00:02:45 keeps A busy until 00:03:05. Both idle out in the
    // same minute (A at 00:18:05, B at 00:18:05 + 0): one goes, the floor's one stays for the request at 00:19:10.
    const times = [T0 + 60_000, T0 + 65_000, T0 + 165_000, T0 + 1_150_000];
    const r = simulate(times, () => 1, OPTS);
    expect(r.startsOnDemand).toBe(1);
    expect(r.coldRequests).toBe(0);
    expect(r.waitP95Seconds).toBe(15);
  });

  test("a queued request goes to whichever instance frees first, the first or the second", () => {
    // Two warm instances, 20 s a request: A serves 0-20 s, B 5-25 s; at 10 s A frees first (wait 10 s, then A to 40 s);
    // at 12 s B frees first (wait 13 s).
    const times = [0, 5, 10, 12].map((s) => T0 + H + s * 1000);
    const r = simulate(times, () => 2, OPTS);
    expect([r.coldRequests, r.startsOnDemand]).toEqual([0, 0]);
    expect(r.waitMeanSeconds).toBe((10 + 13) / 4);
    expect([r.waitP50Seconds, r.waitP95Seconds]).toEqual([10, 13]);
  });

  test("every page view's prewarm starts an instance when none exists, and none while one does", () => {
    // Prewarms at 01:00 and 03:00 each start one (the first request's instance is gone by 03:00); one at 01:05 finds
    // the 01:00 one and starts nothing.
    const r = simulate([T0 + H + 180_000, T0 + 3 * H + 180_000], () => 0, OPTS, [T0 + H, T0 + H + 300_000, T0 + 3 * H]);
    expect(r.startsOnDemand).toBe(2);
    expect(r.coldRequests).toBe(0);
  });

  test("never more instances than maxInstances: extra requests queue", () => {
    const times = Array.from({ length: 10 }, (_, i) => T0 + H + i * 1000);
    const r = simulate(times, () => 0, { ...OPTS, maxInstances: 2 });
    expect(r.billedInstanceHours * 3600).toBeLessThanOrEqual(2 * (120 + 10 * 20 + 900) + 1);
    expect(r.waitP95Seconds).toBeGreaterThan(120);
  });
});
