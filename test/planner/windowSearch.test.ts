/**
 * The planner's window search on scores written by hand: which windows each shape finds for a known week of cold
 * requests, and how a target picks among them. The recommendation tests (recommender.test.ts) go through logs, the
 * simulator and cross-validation, which blur these edges; here each expected plan can be read off the scores.
 */
import { describe, expect, test } from "vitest";
import { DEFAULT_PRICES } from "../../components/budget/costModel";
import { evaluateWindows, planFor, recommend, scoreBins, type BinScores } from "../../planner/recommender";
import { burstyLog, DAY, H, OPTS, planInputs, T0 } from "../support/plannerLogs";

const SLOTS_PER_DAY = 48;

/** Scores with `coldAt(day, slot)` cold requests a week in each half hour; the requests are exactly those. */
function scores(coldAt: (day: number, slot: number) => number, busyMinutes = 0): BinScores {
  const cold = new Float64Array(7 * SLOTS_PER_DAY);
  for (let d = 0; d < 7; d++) for (let s = 0; s < SLOTS_PER_DAY; s++) cold[d * SLOTS_PER_DAY + s] = coldAt(d, s);
  return { cold, busy: new Float64Array(7 * SLOTS_PER_DAY).fill(busyMinutes), requestsPerWeek: cold.reduce((a, b) => a + b, 0) };
}
/** Half hour `slot` falls in [from, to) (hours, 24 = midnight), as a window string would say it. */
const within = (slot: number, from: number, to: number) => slot >= from * 2 && slot < to * 2;


describe("each shape's window for a known week", () => {
  const evening = scores((_d, s) => (within(s, 18, 20) ? 10 : 0));

  test("an evening peak every day: one 18:00-20:00 window, whatever the shape", () => {
    for (const shape of ["daily", "weekdays+weekends", "per day"] as const) expect(planFor(shape, evening, 0, 0), shape).toBe("daily 18:00-20:00");
  });

  test("weekday evenings and weekend mornings: two windows for weekdays+weekends, one long one for daily", () => {
    const s = scores((d, slot) => ((d < 5 ? within(slot, 18, 20) : within(slot, 10, 12)) ? 10 : 0));
    expect(planFor("weekdays+weekends", s, 0, 0)).toBe("weekdays 18:00-20:00; weekends 10:00-12:00");
    expect(planFor("daily", s, 0, 0)).toBe("daily 10:00-20:00");
  });

  test("a different hour each day: per day finds each day's own window", () => {
    const s = scores((d, slot) => (within(slot, 8 + d, 9 + d) ? 10 : 0));
    expect(planFor("per day", s, 0, 0)).toBe("mon 08:00-09:00; tue 09:00-10:00; wed 10:00-11:00; thu 11:00-12:00; fri 12:00-13:00; sat 13:00-14:00; sun 14:00-15:00");
  });

  test("a peak around midnight: per-day windows run past it as one window, anchored at the quiet night instead", () => {
    const s = scores((_d, slot) => (within(slot, 23, 24) || within(slot, 0, 1) ? 10 : 0));
    expect(planFor("per day", s, 0, 0)).toBe("daily 23:00-01:00");
  });

  test("one quiet half hour inside a busy evening does not split the evening", () => {
    // 17:00-22:00 busy but for 19:00-19:30; a trickle the rest of the day. The quiet half hour alone is the quietest;
    // over its two hours, the night is.
    const s = scores((_d, slot) => (within(slot, 17, 22) ? (within(slot, 19, 19.5) ? 0 : 5) : 0.1));
    expect(planFor("per day", s, 0.1, 0)).toBe("daily 17:00-22:00");
  });

  test("half hours that traffic keeps busy anyway are the first warmed: warming them costs nothing", () => {
    // One cold request in every half hour; 12:00-14:00 busy throughout. The cheapest plan leaving at most 95% cold.
    const s = { ...scores(() => 1), busy: new Float64Array(7 * SLOTS_PER_DAY).map((_, i) => (within(i % SLOTS_PER_DAY, 12, 14) ? 30 : 0)) };
    expect(planFor("daily", s, 0.95, 0)).toBe("daily 12:00-14:00");
  });

  test("cold requests all day: a window of the whole day", () => {
    expect(planFor("daily", scores(() => 1), 0, 0)).toBe("daily 00:00-24:00");
  });

  test("a peak up to midnight: a window that ends at 24:00", () => {
    expect(planFor("daily", scores((_d, s) => (within(s, 20, 24) ? 10 : 0)), 0, 0)).toBe("daily 20:00-24:00");
  });

  test("nothing cold to save: no window, even where warming costs nothing (the instance is busy anyway)", () => {
    expect(planFor("daily", scores(() => 0, 30), 0, 0)).toBe("");
    expect(planFor("per day", scores(() => 0), 0, 0)).toBe("");
  });
});

describe("the target picks among a shape's plans", () => {
  // 10 cold requests a day at 18:00-20:00 and one at 08:00: the evening alone leaves 1 in 41 cold (2.4%).
  const s = scores((_d, slot) => (within(slot, 18, 20) ? 10 : slot === 16 ? 1 : 0));

  test("a loose target takes the cheapest plan that meets it; none cold takes the one that covers both", () => {
    expect(planFor("daily", s, 0.05, 0)).toBe("daily 18:00-20:00");
    expect(planFor("daily", s, 0, 0)).toBe("daily 08:00-20:00");
  });
});

describe("scores from a log", () => {
  test("a request at the first minute of the scored range counts as busy time", () => {
    const t = T0 + 10 * H;
    const s = scoreBins([t], [{ from: t, to: t + DAY }], planInputs([t]));
    expect(s.busy[20]).toBeGreaterThan(0); // Monday 10:00
  });

  test("a longer service time is more busy time (an instance exists for the start, the service and the idle tail)", () => {
    const times = burstyLog(7, [10], 1);
    const busyWith = (serviceSeconds: number) => {
      const p = planInputs(times, "UTC", { ...OPTS, serviceSeconds });
      return scoreBins(times, [{ from: T0, to: T0 + 7 * DAY }], p).busy.reduce((a, b) => a + b, 0);
    };
    expect(busyWith(600)).toBeGreaterThan(busyWith(20) + 6 * 7 * 0.9);
  });

  test("a log of a few hours scores every half hour of the week with a number (no exposure is no evidence, not NaN)", () => {
    const times = burstyLog(1, [10], 3);
    const s = scoreBins(times, [{ from: T0 + 9 * H, to: T0 + 12 * H }], planInputs(times));
    expect([...s.cold, ...s.busy].every(Number.isFinite)).toBe(true);
  });
});

describe("plans priced and capped", () => {
  test("a plan's scheduler jobs are priced beyond the free ones: min-instance jobs and warmup jobs both count", () => {
    const times = burstyLog(7, [10], 1);
    // Seven windows: two edges and one warmup each.
    const o = evaluateWindows("x", "mon 09:00-10:00; tue 10:00-11:00; wed 11:00-12:00; thu 12:00-13:00; fri 13:00-14:00; sat 14:00-15:00; sun 15:00-16:00", planInputs(times));
    expect(o.schedulerJobs).toBe(21);
    expect(o.cost.scheduler).toBeCloseTo((21 - DEFAULT_PRICES.freeSchedulerJobs) * DEFAULT_PRICES.schedulerJobPerMonth, 9);
  });

  test("--max-windows 1: no candidate shown and no validated pair has a plan of more windows", () => {
    const weekdays = burstyLog(21, [9, 12, 15], 5).filter((t) => new Date(t).getUTCDay() % 6 !== 0);
    const weekends = burstyLog(21, [19, 21], 5).filter((t) => new Date(t).getUTCDay() % 6 === 0);
    const p = planInputs([...weekdays, ...weekends].sort((a, b) => a - b));
    const open = recommend(p, { targetColdFraction: 0.05 });
    const capped = recommend(p, { targetColdFraction: 0.05 }, 1);
    expect(open.candidates.some((o) => o.windowCount > 1)).toBe(true);
    expect(capped.candidates.every((o) => o.windowCount <= 1)).toBe(true);
    // Pairs whose plan on some fold had more windows are not validated.
    expect(capped.validation.length).toBeGreaterThan(0);
    expect(capped.validation.length).toBeLessThan(open.validation.length);
  });

  test("a silent week (the service was down) leaves the validated figures finite", () => {
    const times = burstyLog(29, [9, 18], 5).filter((t) => t < T0 + 7 * DAY || t >= T0 + 14 * DAY);
    const r = recommend(planInputs(times), { targetColdFraction: 0.05 });
    expect(r.folds).toBe(4); // the second of them empty
    expect(r.validation.length).toBeGreaterThan(0);
    expect(r.validation.every((c) => Number.isFinite(c.validationColdFraction) && Number.isFinite(c.validationMonthlyCost))).toBe(true);
  });
});
