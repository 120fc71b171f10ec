import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { DEFAULT_PRICES, describeTraffic, monthlyCost, requestLogMonthlyCost } from "../../components/budget/costModel";
import { binRequests, daySpec, evaluateWindows, formatWindows, planClock, planFor, recommend, scoreBins, warmSpans, weekFolds } from "../../planner/recommender";
import { coldArrivals, dropOutliers, inFlightPercentile, littleDataWarning, saturationWarning } from "../../planner/planSanity";
import { simulate } from "../../planner/simulator";
import { parseRequestLog } from "../../planner/requestLog";
import { gcloudReadArgs, requestLogSinkFilter, requestLogViewName } from "../../components/logging/requestLogFilter";
import { parseWarmWindows, weeklyLevels } from "../../components/schedule/warmWindows";
import { generateRequests, OFFICE_SHAPE } from "../../scripts/exampleRequests";
import { burstyLog, DAY, OPTS, planInputs, SCHED, T0 } from "../support/plannerLogs";


describe("request log", () => {
  test("reads CSV with a timestamp column among others, ISO or epoch ms, and reports bad rows by line", () => {
    const log = parseRequestLog("user,timestamp,path\nana,2026-11-02T10:00:00Z,/a\nbo,1793613600000,/b\ncy,yesterday,/c\n\n", "log.csv");
    expect(log.times).toEqual([Date.parse("2026-11-02T10:00:00Z"), 1793613600000].sort((a, b) => a - b));
    expect(log.badRows).toEqual([{ line: 4, reason: 'timestamp "yesterday" is neither ISO 8601 nor epoch milliseconds' }]);
  });

  test("reads NDJSON exported from Cloud Logging, and the JSON array gcloud logging read prints", () => {
    const log = parseRequestLog('{"timestamp":"2026-11-02T10:00:00.123Z","severity":"INFO"}\nnot json\n{"severity":"INFO"}\n', "log.ndjson");
    expect(log.times).toEqual([Date.parse("2026-11-02T10:00:00.123Z")]);
    expect(log.badRows).toEqual([
      { line: 2, reason: "not a JSON object" },
      { line: 3, reason: "no timestamp" },
    ]);
    expect(parseRequestLog('[{"timestamp":"2026-11-02T10:00:00Z"},{"timestamp":"2026-11-02T09:00:00+01:00"}]', "g.json").times).toEqual([Date.parse("2026-11-02T08:00:00Z"), Date.parse("2026-11-02T10:00:00Z")]);
  });

  test("a timestamp without a UTC offset is an error naming the file and line, with a correct example and the flag", () => {
    expect(() => parseRequestLog("timestamp\n2026-11-02T10:00:00Z\n2026-11-02 10:00\n", "x.csv")).toThrow(
      /^x\.csv:3: timestamp "2026-11-02 10:00" has no UTC offset.*2026-11-02T10:00:00Z.*--assume-timezone Europe\/Berlin$/,
    );
  });

  test("--assume-timezone reads it on that zone's wall clock, DST included", () => {
    const log = parseRequestLog("timestamp\n2026-03-28 10:00\n2026-03-30 10:00:30.5\n", "x.csv", { assumeTimeZone: "Europe/Berlin" });
    // Berlin is UTC+1 before 2026-03-29 and UTC+2 after.
    expect(log.times).toEqual([Date.parse("2026-03-28T09:00:00Z"), Date.parse("2026-03-30T08:00:30.500Z")]);
  });

  test("a session_start column marks session starts", () => {
    const log = parseRequestLog("timestamp,session_start\n2026-11-02T10:00:00Z,true\n2026-11-02T10:01:00Z,false\n2026-11-02T12:00:00Z,1\n", "s.csv");
    expect(log.sessionStarts).toEqual([Date.parse("2026-11-02T10:00:00Z"), Date.parse("2026-11-02T12:00:00Z")]);
  });

  test("a file with no usable rows, or no timestamp column, is an error naming the file", () => {
    expect(() => parseRequestLog("timestamp\nsoon\n", "x.csv")).toThrow(/x\.csv: no usable rows \(line 2: timestamp "soon"/);
    expect(() => parseRequestLog("time,user\n1,2\n", "y.csv")).toThrow(/y\.csv:1: the CSV header has no "timestamp" column/);
    expect(() => parseRequestLog("\n\n", "z.csv")).toThrow(/z\.csv: empty/);
  });
});

describe("input sanity", () => {
  test("one timestamp ten years off (or in 1970) is dropped and counted; the bulk is kept whole", () => {
    const bulk = burstyLog(90, [9, 14, 20]);
    const r = dropOutliers([0, ...bulk, bulk[bulk.length - 1] + 3650 * DAY]);
    expect(r.dropped).toBe(2);
    expect(r.kept).toEqual(bulk);
  });

  test("a short log keeps its own edges; 500 identical timestamps are not outliers of each other", () => {
    const short = burstyLog(3, [9]);
    expect(dropOutliers(short).dropped).toBe(0);
    expect(dropOutliers(new Array(500).fill(T0)).dropped).toBe(0);
  });

  test("too little data (under 4 weeks or 200 requests) warns how sure the plan is; enough data does not", () => {
    expect(littleDataWarning(5904, 89, 390, 0.05)).toBeUndefined();
    const w = littleDataWarning(150, 9, 30, 0.05)!;
    expect(w).toMatch(/^little data: 9\.0 days \(fewer than 28\) and 150 requests \(fewer than 200\) in 30 bursts; .* ±7\.8 points \(95%\)/);
    expect(w).toMatch(/cannot be told from chance/);
    expect(littleDataWarning(1, 0, 1, 0.05)).toMatch(/±42\.7 points/);
  });

  test("a saturated log says so and suggests maxInstances; a healthy one does not", () => {
    // 3 requests a minute, each 60 s, on at most 1 instance: the queue only grows.
    const times = Array.from({ length: 600 }, (_, i) => T0 + i * 20_000);
    const always = simulate(times, () => 1, { ...OPTS, serviceSeconds: 60, maxInstances: 1 });
    const w = saturationWarning(always.waitP95Seconds, 120, 1, 1, inFlightPercentile(times, 60, 0.99));
    expect(w).toMatch(/^saturated: even warm all week, the p95 wait is \d+ s .*pulumi config set warmstart:maxInstances 3 /);
    expect(saturationWarning(10, 120, 2, 1, 1)).toBeUndefined();
  });

  test("cold arrivals are the first requests after a quiet gap longer than the idle time", () => {
    expect(coldArrivals([0, 1000, 2000, 1_000_000, 1_001_000], 900)).toEqual([0, 1_000_000]);
  });
});

describe("windows", () => {
  test("a window running past midnight is one window, never split at 00:00", () => {
    expect(formatWindows([{ days: [4], start: 44, length: 8 }])).toBe("fri 22:00-02:00");
    // Per-day windows anchored at a quiet 05:00 may start after midnight: that is the next calendar day's window.
    expect(formatWindows([{ days: [6], start: 49, length: 4 }])).toBe("mon 00:30-02:30");
    expect(formatWindows([{ days: [0, 1, 2, 3, 4, 5, 6], start: 0, length: 48 }])).toBe("daily 00:00-24:00");
    expect(formatWindows([{ days: [0, 1, 2, 3, 4], start: 18, length: 30 }])).toBe("weekdays 09:00-24:00");
  });

  test("windows list in the order of their first day, days ascending, whatever order the search found them", () => {
    expect(formatWindows([{ days: [6, 5], start: 24, length: 4 }, { days: [2, 0, 1], start: 18, length: 2 }])).toBe("mon-wed 09:00-10:00; weekends 12:00-14:00");
    // A window of a whole day or more reads as 00:00-24:00.
    expect(formatWindows([{ days: [3], start: 0, length: 48 }])).toBe("thu 00:00-24:00");
  });

  test("the heatmap's warm spans: per day, from the first warm minute to the last, a window past midnight split at it", () => {
    const levels = weeklyLevels(parseWarmWindows("mon 09:00-10:30; tue 23:00-01:00"), { ...SCHED, leadMinutes: 0 });
    expect(warmSpans(levels)).toEqual([
      { day: 0, from: 540, to: 630 },
      { day: 1, from: 1380, to: 1440 },
      { day: 2, from: 0, to: 60 },
    ]);
    expect(warmSpans(weeklyLevels([], SCHED))).toEqual([]);
  });

  test("day lists read as the grammar writes them", () => {
    expect(daySpec([0, 1])).toBe("mon,tue");
    expect(daySpec([4, 5, 6])).toBe("fri-sun");
    expect(daySpec([0, 1, 3, 4, 5])).toBe("mon,tue,thu-sat");
    expect(daySpec([0, 1, 2, 3, 4])).toBe("weekdays");
    expect(daySpec([0, 1, 2, 3])).toBe("mon-thu");
    expect(daySpec([0, 2, 5, 6])).toBe("mon,wed,sat,sun");
  });

  test("any slot windows format to a string that parses to exactly those warm minutes (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.record({ day: fc.integer({ min: 0, max: 6 }), start: fc.integer({ min: 0, max: 95 }), length: fc.integer({ min: 1, max: 47 }) }), { maxLength: 6 }), (ws) => {
        const slots = ws.map((w) => ({ days: [w.day], start: w.start, length: w.length }));
        const levels = weeklyLevels(parseWarmWindows(formatWindows(slots)), { ...SCHED, leadMinutes: 0 });
        const expected = new Int32Array(7 * 1440);
        for (const w of slots) for (let m = 0; m < w.length * 30; m++) expected[(w.days[0] * 1440 + w.start * 30 + m) % (7 * 1440)] = 1;
        expect([...levels]).toEqual([...expected]);
      }),
      { numRuns: 200 },
    );
  });
});

describe("cross-validation and the recommendation", () => {
  test("folds are contiguous blocks of whole weeks, at most 4; under two weeks there are none", () => {
    expect(weekFolds(T0, T0 + 13 * DAY)).toEqual([]);
    expect(weekFolds(T0, T0 + 15 * DAY)).toEqual([
      { from: T0, to: T0 + 7 * DAY },
      { from: T0 + 7 * DAY, to: T0 + 15 * DAY + 1 },
    ]);
    const f = weekFolds(T0, T0 + 90 * DAY);
    expect(f).toHaveLength(4);
    expect(f[1].from - f[0].from).toBe(3 * 7 * DAY);
    expect(f[3].to).toBe(T0 + 90 * DAY + 1);
  });

  test("a burst scores one cold start (plus the requests queued behind it), not its every request", () => {
    const times = burstyLog(28, [10], 15, 20_000);
    const s = scoreBins(times, [{ from: times[0], to: times[times.length - 1] + 1 }], planInputs(times));
    // Every day at 10:00: the first request and the 5 queued in its 120 s start are cold, of 15; per day of the week.
    const perDay = Array.from(s.cold).reduce((a, b) => a + b, 0) / 7;
    expect(perDay).toBeGreaterThan(5.5);
    expect(perDay).toBeLessThan(6.5);
  });

  test("one request a day at 10:00: its half hour scores one cold request and 18 busy minutes, spread half to each neighbour", () => {
    // Scale to zero keeps the instance 120 s start + 20 s service + 900 s idle = 17 min 20 s: minutes 10:00-10:17.
    const times = burstyLog(28, [10], 1);
    const s = scoreBins(times, [{ from: T0, to: T0 + 28 * DAY }], planInputs(times));
    expect(s.requestsPerWeek).toBe(7);
    for (let d = 0; d < 7; d++) {
      const at = (slot: number) => [s.cold[d * 48 + slot], s.busy[d * 48 + slot]].map((x) => Math.round(x * 1e9) / 1e9);
      expect([at(19), at(20), at(21)], `day ${d}`).toEqual([[0.25, 4.5], [0.5, 9], [0.25, 4.5]]);
      expect(at(18)).toEqual([0, 0]);
      expect(at(22)).toEqual([0, 0]);
    }
  });

  test("requests outside the scored ranges (a validation fold) are neither exposure nor busy time", () => {
    const times = burstyLog(28, [10], 1);
    const firstTwoWeeks = times.filter((t) => t < T0 + 14 * DAY);
    const s = scoreBins(firstTwoWeeks, [{ from: T0, to: T0 + 14 * DAY }], planInputs(times));
    expect(s.requestsPerWeek).toBe(7);
    expect(s.busy[20]).toBeCloseTo(9, 9);
    // The heatmap's counts: per weekday and half hour, in the zone's local time.
    const bins = binRequests(times, planClock(times, "Asia/Kolkata"));
    expect(bins.map((day) => day[31])).toEqual([4, 4, 4, 4, 4, 4, 4]); // 10:00 UTC is 15:30 in Kolkata
    expect(bins.flat().reduce((a, b) => a + b, 0)).toBe(28);
  });

  test("a plan's scheduler jobs are its min-instance jobs and its warmup jobs; traffic above the floor is per day", () => {
    const times = burstyLog(14, [10], 1);
    const o = evaluateWindows("x", "weekdays 09:00-12:00", planInputs(times));
    // Two edges (up, down) and one warmup.
    expect([o.windowCount, o.schedulerJobs]).toEqual([1, 3]);
    expect(o.offWindowInstanceHoursPerDay).toBeCloseTo((o.billedInstanceHours - o.floorInstanceHours) / o.periodDays, 12);
    expect(o.offWindowInstanceHoursPerDay).toBeGreaterThan(0); // the weekend requests start instances
  });

  test("validation is measured on weeks the fit did not see, and the plan meets the target there", () => {
    const times = burstyLog(28, [9, 11, 14, 16], 6, 30_000);
    const r = recommend(planInputs(times), { targetColdFraction: 0.05 });
    expect(r.folds).toBe(3);
    expect(r.recommended.validationColdFraction).toBeLessThanOrEqual(0.05);
    expect(r.recommended.coldFraction).toBeLessThanOrEqual(0.05);
    expect(r.recommended.windowCount).toBeLessThanOrEqual(7);
    expect(r.recommended.warmWindows).toMatch(/^daily 0[89]:\d\d-1[67]:\d\d$/);
  });

  test("a monthly budget: the fewest cold requests whose validated cost is within it, a budget exactly at a plan's cost included", () => {
    // Two weeks of the office example log: plans that trade cost for cold requests, not one that wins both.
    const office = generateRequests(OFFICE_SHAPE).map((r) => r.timestamp);
    const p = planInputs(office.filter((t) => t < office[0] + 15 * DAY));
    // With a budget the internal targets do not depend on it: every budget sees the same validated candidates.
    const all = recommend(p, { monthlyBudget: 1e9 }).validation;
    const byColdThenCost = [...all].sort((a, b) => a.validationColdFraction - b.validationColdFraction || a.validationMonthlyCost - b.validationMonthlyCost);
    const cheapest = Math.min(...all.map((c) => c.validationMonthlyCost));
    const best = byColdThenCost[0];
    expect(best.validationMonthlyCost).toBeGreaterThan(cheapest);
    const atIt = recommend(p, { monthlyBudget: best.validationMonthlyCost });
    expect(atIt.chosen).toEqual(best);
    // A cent less: that plan is out, and what is chosen leaves more requests cold within the budget.
    const below = recommend(p, { monthlyBudget: best.validationMonthlyCost - 0.01 });
    expect(below.chosen!.validationMonthlyCost).toBeLessThanOrEqual(best.validationMonthlyCost - 0.01);
    expect(below.chosen!.validationColdFraction).toBeGreaterThan(best.validationColdFraction);
    // Under every plan's cost: the cheapest, said as such by its cost.
    expect(recommend(p, { monthlyBudget: cheapest / 2 }).chosen!.validationMonthlyCost).toBe(cheapest);
  });

  test("a cold target is met by a plan whose validated cold fraction equals it: the cheapest such plan is chosen", () => {
    const office = generateRequests(OFFICE_SHAPE).map((r) => r.timestamp);
    const p = planInputs(office.filter((t) => t < office[0] + 15 * DAY));
    const first = recommend(p, { targetColdFraction: 0.03 }).chosen!;
    // Asked for exactly what that plan achieves: it (or a cheaper one as cold) meets the target.
    const exact = recommend(p, { targetColdFraction: first.validationColdFraction }).chosen!;
    expect(exact.validationColdFraction).toBeLessThanOrEqual(first.validationColdFraction);
    expect(exact.validationMonthlyCost).toBeLessThanOrEqual(first.validationMonthlyCost);
  });

  test("validated figures are pooled over the folds: each fold's plan is fitted without it and replayed on it alone", () => {
    const office = generateRequests(OFFICE_SHAPE).map((r) => r.timestamp);
    const p = planInputs(office.filter((t) => t < office[0] + 15 * DAY));
    const r = recommend(p, { targetColdFraction: 0.03 });
    const c = r.chosen!;
    const first = p.times[0];
    const last = p.times[p.times.length - 1];
    let cold = 0;
    let requests = 0;
    let cost = 0;
    let days = 0;
    for (const fold of weekFolds(first, last)) {
      const training = p.times.filter((t) => t < fold.from || t >= fold.to);
      const scores = scoreBins(training, [{ from: first, to: fold.from }, { from: fold.to, to: last + 1 }], p);
      const out = evaluateWindows("fold", planFor(c.shape, scores, c.internalTarget, p.schedule.leadMinutes), p, p.times.filter((t) => t >= fold.from && t < fold.to));
      cold += out.coldRequests;
      requests += out.requests;
      cost += out.monthlyCost * out.periodDays;
      days += out.periodDays;
    }
    expect(requests).toBe(p.times.length);
    expect(c.validationColdFraction).toBeCloseTo(cold / requests, 12);
    expect(c.validationMonthlyCost).toBeCloseTo(cost / days, 9);
    // The recommendation is that pair refitted on the whole log, carrying its validated figures.
    expect(r.recommended).toMatchObject({ name: "recommended", validationColdFraction: c.validationColdFraction, validationMonthlyCost: c.validationMonthlyCost });
    expect(r.recommended.warmWindows).toBe(planFor(c.shape, scoreBins(p.times, [{ from: first, to: last + 1 }], p), c.internalTarget, p.schedule.leadMinutes));
    // The chart's candidates: every shape's refits, cheapest first, named by shape and internal target.
    const costs = r.candidates.map((o) => o.monthlyCost);
    expect(costs).toEqual([...costs].sort((a, b) => a - b));
    expect(new Set(r.candidates.map((o) => o.name.split(",")[0]))).toEqual(new Set(["daily", "weekdays+weekends", "per day"]));
    expect(r.candidates.every((o) => /^(daily|weekdays\+weekends|per day), fitted to \d+\.\d% cold$/.test(o.name))).toBe(true);
    expect(r.candidates.map((o) => o.name)).toContain(`${c.shape}, fitted to ${(c.internalTarget * 100).toFixed(1)}% cold`);
  });

  test("under two weeks of log: no folds, and the fit alone meets the target", () => {
    const office = generateRequests(OFFICE_SHAPE).map((r) => r.timestamp);
    const p = planInputs(office.filter((t) => t < office[0] + 10 * DAY));
    const r = recommend(p, { targetColdFraction: 0.05 });
    expect([r.folds, r.validation, r.chosen]).toEqual([0, [], undefined]);
    expect(r.recommended.name).toBe("recommended");
    expect(r.recommended.coldFraction).toBeLessThanOrEqual(0.05);
    // The cheapest of the fits that meet it.
    const meeting = r.candidates.filter((o) => o.coldFraction <= 0.05);
    expect(r.recommended.monthlyCost).toBe(Math.min(...meeting.map((o) => o.monthlyCost)));
    const budget = recommend(p, { monthlyBudget: r.candidates[0].monthlyCost });
    expect(budget.recommended.monthlyCost).toBe(r.candidates[0].monthlyCost);
  });

  test("--max-windows 1 keeps plans to one window", () => {
    const weekdays = burstyLog(21, [9, 12, 15], 5).filter((t) => new Date(t).getUTCDay() % 6 !== 0);
    const weekends = burstyLog(21, [19, 21], 5).filter((t) => new Date(t).getUTCDay() % 6 === 0);
    const times = [...weekdays, ...weekends].sort((a, b) => a - b);
    expect(recommend(planInputs(times), { targetColdFraction: 0.05 }).recommended.windowCount).toBeGreaterThan(1);
    expect(recommend(planInputs(times), { targetColdFraction: 0.05 }, 1).recommended.windowCount).toBe(1);
  });
});

describe("one cost model", () => {
  test("a plan's total is the cost model's: warm floor + traffic above it + scheduler jobs + request-log bucket", () => {
    const times = burstyLog(28, [10, 15]);
    const p = { ...planInputs(times), requestLog: { retentionDays: 120, requestsPerDay: 10 } };
    const o = evaluateWindows("x", "weekdays 09:00-17:00", p);
    const again = monthlyCost({ shape: p.shape, prices: p.prices, warmInstanceHoursPerWeek: 5 * (8 + 5 / 60), offWindowInstanceHoursPerDay: o.offWindowInstanceHoursPerDay, schedulerJobs: o.schedulerJobs, requestLog: p.requestLog });
    expect(o.monthlyCost).toBeCloseTo(again.total, 9);
    expect(o.cost.requestLog).toBeCloseTo(requestLogMonthlyCost(p.requestLog, p.prices), 12);
  });

  test("the assumption is printed with the figure", () => {
    expect(describeTraffic({ source: "config", instanceHoursPerDay: 1 })).toMatch(/1 instance-hours a day assumed \(warmstart:offWindowInstanceHoursPerDay/);
    expect(describeTraffic({ source: "log", instanceHoursPerDay: 1.953, file: "l.csv", requests: 10, days: 3 })).toMatch(/1\.95 instance-hours a day above the schedule, measured by replaying l\.csv/);
  });

  test("a request-log bucket of 120 days at 1,000 requests a day costs cents", () => {
    // 1.4 MiB a day: 0.0419 GiB a month streamed x $0.50, plus 90 days x 1.4 MiB = 0.126 GiB-months x $0.01.
    expect(requestLogMonthlyCost({ retentionDays: 120, requestsPerDay: 1000 }, { ...DEFAULT_PRICES })).toBeCloseTo(0.0225, 3);
  });
});

describe("reading the Cloud Run request log", () => {
  test("the sink routes only the service's request log, and the planner reads it from the bucket's view", () => {
    expect(requestLogSinkFilter("acme-prod", "imagegen")).toBe('resource.type="cloud_run_revision" AND resource.labels.service_name="imagegen" AND logName="projects/acme-prod/logs/run.googleapis.com%2Frequests"');
    expect(requestLogViewName("acme-prod", "imagegen")).toBe("projects/acme-prod/locations/global/buckets/imagegen-requests/views/_AllLogs");
    const args = gcloudReadArgs("acme-prod", "imagegen", 90, new Date("2026-11-30T00:00:00Z"));
    expect(args.slice(0, 2)).toEqual(["logging", "read"]);
    expect(args[2]).toContain('timestamp>="2026-09-01T00:00:00.000Z"');
    expect(args[2]).toContain('NOT httpRequest.requestUrl:"/warmup"');
    expect(args.slice(3)).toEqual(["--project=acme-prod", "--bucket=imagegen-requests", "--location=global", "--view=_AllLogs", "--order=asc", "--format=json(timestamp)"]);
  });
});
