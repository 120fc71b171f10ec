import { describe, expect, test } from "vitest";
import { simulate, type SimulationOptions } from "../components/planSimulator";
import { parseRequestLog } from "../components/requestLog";
import { buildWarmSchedule, desiredMinInstances, parseWarmWindows } from "../components/warmWindows";

const OPTS: SimulationOptions = { serviceSeconds: 20, idleSeconds: 900, coldStartSeconds: 120, maxInstances: 2, hourlyCost: 1.42 };
const T0 = Date.parse("2026-11-02T00:00:00Z"); // a Monday
const H = 3_600_000;

/** Bursts of requests at given hours of each day, for `days` days. */
function burstyLog(days: number, hours: number[], perBurst = 5, gapMs = 36_000): number[] {
  const out: number[] = [];
  for (let d = 0; d < days; d++) for (const h of hours) for (let k = 0; k < perBurst; k++) out.push(T0 + d * 24 * H + h * H + k * gapMs);
  return out.sort((a, b) => a - b);
}

describe("request log", () => {
  test("reads CSV with a timestamp column among others, ISO or epoch ms, and reports bad rows by line", () => {
    const log = parseRequestLog("user,timestamp,path\nana,2026-11-02T10:00:00Z,/a\nbo,1793613600000,/b\ncy,yesterday,/c\n\n", "log.csv");
    expect(log.times).toEqual([Date.parse("2026-11-02T10:00:00Z"), 1793613600000].sort((a, b) => a - b));
    expect(log.badRows).toEqual([{ line: 4, reason: 'timestamp "yesterday" is neither ISO 8601 nor epoch milliseconds' }]);
  });

  test("reads NDJSON exported from Cloud Logging", () => {
    const log = parseRequestLog('{"timestamp":"2026-11-02T10:00:00.123Z","severity":"INFO"}\nnot json\n{"severity":"INFO"}\n', "log.ndjson");
    expect(log.times).toEqual([Date.parse("2026-11-02T10:00:00.123Z")]);
    expect(log.badRows).toEqual([
      { line: 2, reason: "not a JSON object" },
      { line: 3, reason: "no timestamp" },
    ]);
  });

  test("a file with no usable rows, or no timestamp column, is an error naming the file", () => {
    expect(() => parseRequestLog("timestamp\nsoon\n", "x.csv")).toThrow(/x\.csv: no usable rows \(line 2: timestamp "soon"/);
    expect(() => parseRequestLog("time,user\n1,2\n", "y.csv")).toThrow(/y\.csv:1: the CSV header has no "timestamp" column/);
    expect(() => parseRequestLog("\n\n", "z.csv")).toThrow(/z\.csv: empty/);
  });
});

describe("simulator", () => {
  test("always warm with one instance: no cold request after the first", () => {
    const times = burstyLog(7, [3, 9, 18, 21], 15, 20_000);
    const r = simulate(times, () => 1, { ...OPTS, maxInstances: 1 });
    expect(r.coldRequests).toBeLessThanOrEqual(1);
  });

  test("scale-to-zero bills exactly cold start + service + idle tail per isolated request", () => {
    const times = [T0 + H, T0 + 5 * H, T0 + 10 * H];
    const r = simulate(times, () => 0, OPTS);
    expect(r.coldRequests).toBe(3);
    expect(r.waitP50Seconds).toBe(120);
    expect(r.billedInstanceHours * 3600).toBeCloseTo(3 * (120 + 20 + 900), 6);
  });

  test("a request behind a starting instance is cold and waits the remaining start time", () => {
    const r = simulate([T0 + H, T0 + H + 30_000], () => 0, { ...OPTS, maxInstances: 1 });
    expect(r.coldRequests).toBe(2);
    // 120 s for the first; the second waits the 90 s of start left and 20 s behind the first request
    expect(r.waitMeanSeconds).toBe((120 + 110) / 2);
  });

  test("cost grows with window length, and cold requests do not", () => {
    const times = burstyLog(14, [8, 10, 12, 14, 16, 18, 20]);
    let lastCost = -1;
    let lastCold = Infinity;
    for (const end of ["11:00", "14:00", "17:00", "21:00"]) {
      const s = buildWarmSchedule(parseWarmWindows(`daily 07:00-${end}`), "UTC", { warmMinInstances: 1, idleMinInstances: 0, leadMinutes: 5 });
      const r = simulate(times, (t) => desiredMinInstances(s, new Date(t)), OPTS);
      expect(r.monthlyCost, end).toBeGreaterThanOrEqual(lastCost);
      expect(r.coldRequests, end).toBeLessThanOrEqual(lastCold);
      lastCost = r.monthlyCost;
      lastCold = r.coldRequests;
    }
    expect(lastCold).toBe(0);
  });

  test("never more instances than maxInstances: extra requests queue", () => {
    const times = Array.from({ length: 10 }, (_, i) => T0 + H + i * 1000);
    const r = simulate(times, () => 0, { ...OPTS, maxInstances: 2 });
    // two instances start; the rest queue behind them
    expect(r.billedInstanceHours * 3600).toBeLessThanOrEqual(2 * (120 + 10 * 20 + 900) + 1);
    expect(r.waitP95Seconds).toBeGreaterThan(120);
  });
});
