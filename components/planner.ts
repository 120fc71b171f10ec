/**
 * The warm-window planner: bins a request log by local weekday and half hour, derives candidate warm windows from
 * it, prices each with the simulator and returns the cheapest that meets a cold-request target (or the fewest cold
 * requests within a budget). Pure.
 */
import { simulate, type SimulationOptions, type SimulationResult } from "./planSimulator";
import { DAY_NAMES, dayGroupName, formatMinuteOfDay, localMinuteOfWeekFn, MINUTES_PER_DAY, parseWarmWindows, weeklyLevels, type ScheduleOptions } from "./warmWindows";

export const SLOT_MINUTES = 30;
const SLOTS_PER_DAY = MINUTES_PER_DAY / SLOT_MINUTES;

/** Requests per (weekday, half hour) in the zone's local time. */
export function binRequests(times: readonly number[], timeZone: string): number[][] {
  const minuteOfWeek = localMinuteOfWeekFn(timeZone);
  const bins = Array.from({ length: 7 }, () => new Array<number>(SLOTS_PER_DAY).fill(0));
  for (const t of times) {
    const m = minuteOfWeek(t);
    bins[Math.floor(m / MINUTES_PER_DAY)][Math.floor((m % MINUTES_PER_DAY) / SLOT_MINUTES)]++;
  }
  return bins;
}

/**
 * Fills single cold half hours between warm ones: an instance kept for the ~15 min idle tail and raised again by the
 * lead costs about the same, and the windows read far better.
 */
export function fillGaps(warm: readonly (readonly boolean[])[]): boolean[][] {
  return warm.map((slots) => slots.map((w, s) => w || (s > 0 && s < slots.length - 1 && slots[s - 1] && slots[s + 1])));
}

/** A warmWindows string for a set of warm slots: runs merged per day, days with the same runs listed together. */
export function windowsFromSlots(warm: readonly (readonly boolean[])[]): string {
  const byRuns = new Map<string, number[]>();
  warm.forEach((slots, day) => {
    const runs: string[] = [];
    for (let s = 0; s < SLOTS_PER_DAY; ) {
      if (!slots[s]) {
        s++;
        continue;
      }
      let e = s;
      while (e < SLOTS_PER_DAY && slots[e]) e++;
      runs.push(`${formatMinuteOfDay(s * SLOT_MINUTES)}-${formatMinuteOfDay(e * SLOT_MINUTES)}`);
      s = e;
    }
    if (runs.length) byRuns.set(runs.join(","), [...(byRuns.get(runs.join(",")) ?? []), day]);
  });
  const windows: string[] = [];
  for (const [runs, days] of byRuns) {
    const daySpec = dayGroupName(days) ?? days.map((d) => DAY_NAMES[d]).join(",");
    for (const run of runs.split(",")) windows.push(`${daySpec} ${run}`);
  }
  return windows.join("; ");
}

export interface PlanOutcome extends SimulationResult {
  readonly name: string;
  readonly warmWindows: string;
}

export interface PlanInputs {
  readonly times: readonly number[];
  readonly timeZone: string;
  readonly sim: SimulationOptions;
  readonly schedule: ScheduleOptions;
}

/** Prices one windows string against the log. */
export function evaluateWindows(name: string, warmWindows: string, p: PlanInputs): PlanOutcome {
  const levels = weeklyLevels(parseWarmWindows(warmWindows), p.schedule);
  const minuteOfWeek = localMinuteOfWeekFn(p.timeZone);
  return { name, warmWindows, ...simulate(p.times, (t) => levels[minuteOfWeek(t)], p.sim) };
}

export interface Recommendation {
  readonly recommended: PlanOutcome;
  /** Every candidate priced, cheapest first; the frontier the chart shows. */
  readonly candidates: PlanOutcome[];
}

/**
 * Candidates warm every half hour whose requests per week reach a threshold, for thresholds from "none" to "every
 * half hour that ever saw a request". The cheapest meeting `targetColdFraction` wins; with `monthlyBudget`, the
 * fewest cold requests within it (ties: cheaper).
 */
export function recommend(p: PlanInputs, goal: { targetColdFraction: number } | { monthlyBudget: number }, maxCandidates = 40): Recommendation {
  const bins = binRequests(p.times, p.timeZone);
  const distinct = [...new Set(bins.flat().filter((c) => c > 0))].sort((a, b) => b - a);
  // At most maxCandidates thresholds, spread over the distinct counts.
  const step = Math.max(1, Math.ceil(distinct.length / maxCandidates));
  const thresholds = distinct.filter((_, i) => i % step === 0 || i === distinct.length - 1);
  const candidates: PlanOutcome[] = [evaluateWindows("scale to zero", "", p)];
  for (const th of thresholds) {
    const windows = windowsFromSlots(fillGaps(bins.map((day) => day.map((c) => c >= th))));
    if (candidates.some((c) => c.warmWindows === windows)) continue;
    candidates.push(evaluateWindows(`warm where >= ${th} requests per half hour`, windows, p));
  }
  candidates.sort((a, b) => a.monthlyCost - b.monthlyCost);
  let best: PlanOutcome | undefined;
  if ("targetColdFraction" in goal) {
    best = candidates.find((c) => c.coldFraction <= goal.targetColdFraction);
    // None meets it: the fewest cold requests, then the cheapest.
    best ??= [...candidates].sort((a, b) => a.coldFraction - b.coldFraction || a.monthlyCost - b.monthlyCost)[0];
  } else {
    const within = candidates.filter((c) => c.monthlyCost <= goal.monthlyBudget);
    best = (within.length ? within : candidates.slice(0, 1)).sort((a, b) => a.coldFraction - b.coldFraction || a.monthlyCost - b.monthlyCost)[0];
  }
  return { recommended: { ...best, name: "recommended" }, candidates };
}
