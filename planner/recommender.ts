/**
 * The warm-window planner: scores each (weekday, half hour) of a request log by the cold requests a warm instance
 * would save there, searches a few simple window shapes exactly, and chooses the shape and an internal cold target by
 * cross-validation across the log's weeks, so that the plan holds on next month's traffic and stays human-sized.
 * Every candidate is priced with the simulator and the one cost model (components/budget/costModel.ts). Pure.
 *
 * Why this way (issue #20, measured on held-out months): scoring half hours by requests overfits, since a burst of
 * fifteen requests costs one cold start, not fifteen; thresholds on those counts give 11-34 windows; and windows
 * split at midnight added fragments and warmup jobs. Here a bin's score is the requests its cold arrivals would leave
 * cold (the first request after a quiet gap, and those that queue behind its start), weekday estimates are shrunk
 * toward their day group's and the all-days profile, and each shape is a handful of windows by construction.
 */
import { monthlyCost, type CostEstimate, type InstanceShape, type Prices, type RequestLogVolume } from "../components/budget/costModel";
import { localMinutes, type LocalMinutes } from "./localMinutes";
import { coldArrivals } from "./planSanity";
import { simulate, type SimulationOptions, type SimulationResult } from "./simulator";
import {
  buildWarmSchedule,
  DAY_NAMES,
  dayGroupName,
  formatMinuteOfDay,
  MINUTES_PER_DAY,
  MINUTES_PER_WEEK,
  parseWarmWindows,
  warmInstanceHoursPerWeek,
  weeklyLevels,
  type ScheduleOptions,
  type WeeklyLevels,
} from "../components/schedule/warmWindows";

export const SLOT_MINUTES = 30;
const SLOTS_PER_DAY = MINUTES_PER_DAY / SLOT_MINUTES;
const SLOTS_PER_WEEK = 7 * SLOTS_PER_DAY;
const WEEK = 7 * 86_400_000;
/** Default cap on a plan's windows: a person reads and edits it. */
export const DEFAULT_MAX_WINDOWS = 7;

export interface PlanInputs {
  /** Request instants, epoch ms, sorted (after the sanity checks). */
  readonly times: readonly number[];
  readonly timeZone: string;
  readonly sim: SimulationOptions;
  readonly schedule: ScheduleOptions;
  readonly shape: InstanceShape;
  readonly prices: Prices;
  /** The stack's request-log bucket, priced in every plan's total like synth prices it. */
  readonly requestLog?: RequestLogVolume;
  /** Local minute of the week over the log's span; built once (see {@link planClock}). */
  readonly clock: LocalMinutes;
}

/** The clock every evaluation of one log shares: the zone's offsets worked out once over the log's span. */
export function planClock(times: readonly number[], timeZone: string, tailMs = 2 * 86_400_000): LocalMinutes {
  return localMinutes(times[0] - 86_400_000, times[times.length - 1] + tailMs, timeZone);
}

export interface PlanOutcome extends SimulationResult {
  readonly name: string;
  readonly warmWindows: string;
  /** Windows in the warmWindows string. */
  readonly windowCount: number;
  /** Cloud Scheduler jobs the plan needs: min-instance jobs plus warmup jobs. */
  readonly schedulerJobs: number;
  /** Instance-hours a day above the schedule's floor, as the replay measured them (the cost model's traffic input). */
  readonly offWindowInstanceHoursPerDay: number;
  readonly cost: CostEstimate;
  /** `cost.total`: the figure synth prints for the same windows and the same log. */
  readonly monthlyCost: number;
  /** Cross-validated cold fraction (recommendations only): the plan's shape and target refitted without each fold. */
  readonly validationColdFraction?: number;
  readonly validationMonthlyCost?: number;
}

/** Requests per (weekday, half hour) in the zone's local time. */
export function binRequests(times: readonly number[], clock: LocalMinutes): number[][] {
  const bins = Array.from({ length: 7 }, () => new Array<number>(SLOTS_PER_DAY).fill(0));
  for (const t of times) {
    const m = clock.at(t);
    bins[Math.floor(m / MINUTES_PER_DAY)][Math.floor((m % MINUTES_PER_DAY) / SLOT_MINUTES)]++;
  }
  return bins;
}

/** Prices one windows string against (part of) the log with the one cost model. */
export function evaluateWindows(name: string, warmWindows: string, p: PlanInputs, times: readonly number[] = p.times, prewarms: readonly number[] = []): PlanOutcome {
  const windows = parseWarmWindows(warmWindows);
  const levels = weeklyLevels(windows, p.schedule);
  const schedule = buildWarmSchedule(windows, p.timeZone, p.schedule);
  const r = simulate(times, (t) => levels[p.clock.at(t)], p.sim, prewarms);
  const offWindowInstanceHoursPerDay = Math.max(0, r.billedInstanceHours - r.floorInstanceHours) / r.periodDays;
  const cost = monthlyCost({
    shape: p.shape,
    prices: p.prices,
    warmInstanceHoursPerWeek: warmInstanceHoursPerWeek(levels),
    offWindowInstanceHoursPerDay,
    schedulerJobs: schedule.jobs.length + schedule.warmups.length,
    requestLog: p.requestLog,
  });
  return { name, warmWindows, windowCount: windows.length, schedulerJobs: schedule.jobs.length + schedule.warmups.length, offWindowInstanceHoursPerDay, cost, monthlyCost: cost.total, ...r };
}

// ---------------------------------------------------------------------------------------------------------------
// Scores

/** Per (weekday, half hour) of the week, per occurrence of that half hour in the log. */
export interface BinScores {
  /** Requests its cold arrivals leave cold when nothing is warm (shrunk and smoothed). */
  readonly cold: Float64Array;
  /** Minutes an instance is billed there anyway for the traffic (scale to zero), so warming it costs only the rest. */
  readonly busy: Float64Array;
  /** Requests per week in the scored period. */
  readonly requestsPerWeek: number;
}

/** Strength of the prior, in occurrences of a half hour: a weekday's own estimate outweighs its group's after 4 weeks. */
const PRIOR_WEEKS = 4;
const WEEKDAY_GROUPS = [[0, 1, 2, 3, 4], [5, 6]];

/**
 * Scores from the requests in `times` observed over `ranges` (minutes outside them, such as a validation fold, are
 * not exposure). A cold arrival (the first request after a gap longer than the idle time, when the instance is gone)
 * leaves itself and every request in the following cold start cold; that count is its score. Weekday estimates are
 * shrunk toward the day group's (weekdays, weekends), and those toward the all-days profile, then smoothed over
 * neighbouring half hours.
 */
export function scoreBins(times: readonly number[], ranges: readonly Fold[], p: Pick<PlanInputs, "clock" | "sim">): BinScores {
  const cold = new Float64Array(SLOTS_PER_WEEK);
  const busy = new Float64Array(SLOTS_PER_WEEK);
  const exposure = new Float64Array(SLOTS_PER_WEEK);
  const coldMs = p.sim.coldStartSeconds * 1000;
  let j = 0;
  for (const a of coldArrivals(times, p.sim.idleSeconds)) {
    while (times[j] < a) j++;
    let k = j;
    while (k < times.length && times[k] < a + coldMs) k++;
    cold[Math.floor(p.clock.at(a) / SLOT_MINUTES)] += k - j;
  }
  // Minutes an instance would exist under scale to zero: from each request through its start, service and idle tail.
  const tail = coldMs + p.sim.serviceSeconds * 1000 + p.sim.idleSeconds * 1000;
  let totalMs = 0;
  for (const r of ranges) {
    const start = Math.floor(r.from / 60_000);
    const minutes = Math.max(0, Math.ceil(r.to / 60_000) - start);
    totalMs += minutes * 60_000;
    const covered = new Int32Array(minutes + 1);
    for (const t of times) {
      const a = Math.floor(t / 60_000) - start;
      if (a < 0 || a >= minutes) continue;
      covered[a]++;
      covered[Math.min(minutes, Math.ceil((t + tail) / 60_000) - start)]--;
    }
    let run = 0;
    for (let m = 0; m < minutes; m++) {
      run += covered[m];
      const bin = Math.floor(p.clock.at((start + m) * 60_000) / SLOT_MINUTES);
      exposure[bin] += 1 / SLOT_MINUTES;
      if (run > 0) busy[bin]++;
    }
  }
  const shrink = (x: Float64Array) => smooth(shrunk(x, exposure));
  return { cold: shrink(cold), busy: shrink(busy), requestsPerWeek: (times.length * WEEK) / Math.max(WEEK / 7, totalMs) };
}

function shrunk(total: Float64Array, exposure: Float64Array): Float64Array {
  const out = new Float64Array(SLOTS_PER_WEEK);
  for (let s = 0; s < SLOTS_PER_DAY; s++) {
    let allT = 0;
    let allE = 0;
    for (let d = 0; d < 7; d++) {
      allT += total[d * SLOTS_PER_DAY + s];
      allE += exposure[d * SLOTS_PER_DAY + s];
    }
    const all = allE > 0 ? allT / allE : 0;
    for (const group of WEEKDAY_GROUPS) {
      let gT = 0;
      let gE = 0;
      for (const d of group) {
        gT += total[d * SLOTS_PER_DAY + s];
        gE += exposure[d * SLOTS_PER_DAY + s];
      }
      const g = (gT + PRIOR_WEEKS * all) / (gE + PRIOR_WEEKS);
      for (const d of group) out[d * SLOTS_PER_DAY + s] = (total[d * SLOTS_PER_DAY + s] + PRIOR_WEEKS * g) / (exposure[d * SLOTS_PER_DAY + s] + PRIOR_WEEKS);
    }
  }
  return out;
}

/** [1 2 1]/4 over neighbouring half hours, around the week: a peak at 18:40 one week and 19:10 the next is one peak. */
function smooth(x: Float64Array): Float64Array {
  const out = new Float64Array(SLOTS_PER_WEEK);
  for (let i = 0; i < SLOTS_PER_WEEK; i++) out[i] = 0.25 * x[(i + SLOTS_PER_WEEK - 1) % SLOTS_PER_WEEK] + 0.5 * x[i] + 0.25 * x[(i + 1) % SLOTS_PER_WEEK];
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Shapes

/** A warm window in slots: starts at `day`'s slot `start` and lasts `length` slots (it may run past midnight). */
interface SlotWindow {
  readonly days: readonly number[];
  readonly start: number;
  readonly length: number;
}

export type ShapeName = "daily" | "weekdays+weekends" | "per day";
export const SHAPES: readonly ShapeName[] = ["daily", "weekdays+weekends", "per day"];

/** Value of warming each slot of the week at a price `lambda` (minutes of instance time) per cold request saved. */
function slotValues(s: BinScores, lambda: number): Float64Array {
  const v = new Float64Array(SLOTS_PER_WEEK);
  for (let i = 0; i < SLOTS_PER_WEEK; i++) v[i] = lambda * s.cold[i] - Math.max(0, SLOT_MINUTES - s.busy[i]);
  return v;
}

/** Best window for a set of days that share it, searched exhaustively: every start and length, running past midnight. */
function bestSharedWindow(v: Float64Array, days: readonly number[], leadCost: number, from = 0, span = SLOTS_PER_DAY): SlotWindow | undefined {
  const prefix = new Float64Array(2 * SLOTS_PER_WEEK + 1);
  for (let i = 0; i < 2 * SLOTS_PER_WEEK; i++) prefix[i + 1] = prefix[i] + v[i % SLOTS_PER_WEEK];
  let best: SlotWindow | undefined;
  let bestValue = 0;
  for (let a = from; a < from + span; a++) {
    for (let len = 1; a + len <= from + span && len <= SLOTS_PER_DAY; len++) {
      let value = -leadCost * days.length;
      for (const d of days) {
        const i = d * SLOTS_PER_DAY + a;
        value += prefix[i + len] - prefix[i];
      }
      if (value > bestValue) {
        bestValue = value;
        best = { days, start: a, length: len };
      }
    }
  }
  return best;
}

/** The quietest half hour of the all-days profile: per-day windows never bridge it. */
function quietestSlot(s: BinScores): number {
  let best = 0;
  let min = Infinity;
  for (let slot = 0; slot < SLOTS_PER_DAY; slot++) {
    // Over a two-hour neighbourhood, so that one quiet half hour inside a busy evening does not anchor the day.
    let sum = 0;
    for (let k = -2; k <= 2; k++) for (let d = 0; d < 7; d++) sum += s.cold[(d * SLOTS_PER_DAY + slot + k + SLOTS_PER_WEEK) % SLOTS_PER_WEEK];
    if (sum < min) {
      min = sum;
      best = slot;
    }
  }
  return best;
}

function shapeWindows(shape: ShapeName, s: BinScores, lambda: number, leadMinutes: number): SlotWindow[] {
  const v = slotValues(s, lambda);
  const lead = leadMinutes;
  const pick = (w: SlotWindow | undefined) => (w ? [w] : []);
  if (shape === "daily") return pick(bestSharedWindow(v, [0, 1, 2, 3, 4, 5, 6], lead));
  if (shape === "weekdays+weekends") return [...pick(bestSharedWindow(v, [0, 1, 2, 3, 4], lead)), ...pick(bestSharedWindow(v, [5, 6], lead))];
  const q = quietestSlot(s);
  const out: SlotWindow[] = [];
  for (let d = 0; d < 7; d++) {
    // Day d runs from its quietest half hour to the next day's: a window may cross midnight, never the dead hours.
    const w = bestSharedWindow(v, [d], lead, q, SLOTS_PER_DAY);
    if (w) out.push(w);
  }
  return out;
}

/** A warmWindows string for slot windows: one window per distinct (start, length), its days listed together. */
export function formatWindows(windows: readonly SlotWindow[]): string {
  const byTimes = new Map<string, Set<number>>();
  for (const w of windows) {
    const startMin = (w.start * SLOT_MINUTES) % MINUTES_PER_DAY;
    const dayShift = Math.floor((w.start * SLOT_MINUTES) / MINUTES_PER_DAY);
    const len = w.length * SLOT_MINUTES;
    const endMin = (startMin + len) % MINUTES_PER_DAY;
    const times = len >= MINUTES_PER_DAY ? "00:00-24:00" : `${formatMinuteOfDay(startMin)}-${endMin === 0 ? "24:00" : formatMinuteOfDay(endMin)}`;
    const set = byTimes.get(times) ?? new Set<number>();
    for (const d of w.days) set.add((d + dayShift) % 7);
    byTimes.set(times, set);
  }
  return [...byTimes.entries()]
    .sort(([, a], [, b]) => Math.min(...a) - Math.min(...b))
    .map(([times, days]) => `${daySpec([...days].sort((a, b) => a - b))} ${times}`)
    .join("; ");
}

/** `daily`, `weekdays`, `weekends`, ranges (`mon-thu`) and single days, as the grammar reads them. */
export function daySpec(days: readonly number[]): string {
  const group = dayGroupName(days);
  if (group) return group;
  const parts: string[] = [];
  for (let i = 0; i < days.length; ) {
    let j = i;
    while (j + 1 < days.length && days[j + 1] === days[j] + 1) j++;
    parts.push(j - i >= 2 ? `${DAY_NAMES[days[i]]}-${DAY_NAMES[days[j]]}` : days.slice(i, j + 1).map((d) => DAY_NAMES[d]).join(","));
    i = j + 1;
  }
  return parts.join(",");
}

/** Predicted cold requests and warm minutes a week of a plan, from the scores (for choosing among a shape's plans). */
function predict(windows: readonly SlotWindow[], s: BinScores, leadMinutes: number): { coldFraction: number; minutes: number } {
  const warm = new Uint8Array(SLOTS_PER_WEEK);
  let minutes = 0;
  for (const w of windows) {
    for (const d of w.days) {
      minutes += leadMinutes;
      for (let k = 0; k < w.length; k++) warm[(d * SLOTS_PER_DAY + w.start + k) % SLOTS_PER_WEEK] = 1;
    }
  }
  let cold = 0;
  for (let i = 0; i < SLOTS_PER_WEEK; i++) {
    if (warm[i]) minutes += Math.max(0, SLOT_MINUTES - s.busy[i]);
    else cold += s.cold[i];
  }
  return { coldFraction: s.requestsPerWeek > 0 ? cold / s.requestsPerWeek : 0, minutes };
}

/** Prices of a cold request (minutes of instance time) swept to trace each shape's frontier. */
const LAMBDAS = Array.from({ length: 72 }, (_, i) => 0.5 * Math.pow(1.2, i));

/** A shape's frontier: for each price of a cold request, its best windows, cheapest first. */
function frontier(shape: ShapeName, s: BinScores, leadMinutes: number): { windows: SlotWindow[]; coldFraction: number; minutes: number }[] {
  const seen = new Map<string, { windows: SlotWindow[]; coldFraction: number; minutes: number }>();
  for (const lambda of LAMBDAS) {
    const windows = shapeWindows(shape, s, lambda, leadMinutes);
    const key = formatWindows(windows);
    if (!seen.has(key)) seen.set(key, { windows, ...predict(windows, s, leadMinutes) });
  }
  return [...seen.values()].sort((a, b) => a.minutes - b.minutes);
}

const frontiers = new WeakMap<BinScores, Map<ShapeName, ReturnType<typeof frontier>>>();

/** The cheapest of a shape's plans whose predicted cold fraction is at most `internalTarget`. */
export function planFor(shape: ShapeName, s: BinScores, internalTarget: number, leadMinutes: number): string {
  // One frontier per scores and shape: every internal target picks from the same one.
  let byShape = frontiers.get(s);
  if (!byShape) frontiers.set(s, (byShape = new Map()));
  let f = byShape.get(shape);
  if (!f) byShape.set(shape, (f = frontier(shape, s, leadMinutes)));
  // Stryker disable next-line EqualityOperator: a predicted fraction equals a nonzero target only by float accident, and at 0 the one plan predicted to leave nothing cold is the frontier's last, which the fallback picks.
  const ok = f.find((c) => c.coldFraction <= internalTarget) ?? f[f.length - 1];
  return ok ? formatWindows(ok.windows) : "";
}

// ---------------------------------------------------------------------------------------------------------------
// Cross-validation and the recommendation

export type PlanGoal = { readonly targetColdFraction: number } | { readonly monthlyBudget: number };

export interface Fold {
  readonly from: number;
  readonly to: number;
}

/**
 * Contiguous blocks of whole weeks (at most 4): neighbouring days are alike, so a fold made of scattered days would
 * validate on days its training saw the same week. Fewer than two weeks: no folds (nothing to validate on).
 */
export function weekFolds(first: number, last: number, maxFolds = 4): Fold[] {
  const weeks = Math.floor((last - first) / WEEK);
  if (weeks < 2) return [];
  const k = Math.min(maxFolds, weeks);
  const per = Math.floor(weeks / k);
  return Array.from({ length: k }, (_, i) => ({ from: first + i * per * WEEK, to: i === k - 1 ? last + 1 : first + (i + 1) * per * WEEK }));
}

/** Internal targets tried, as multiples of the goal's cold fraction (a plan fitted to 3% may run at 5% next month). */
const TARGET_MULTIPLES = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.15, 1.3, 1.5, 1.75, 2, 2.5, 3];

export interface Candidate {
  readonly shape: ShapeName;
  readonly internalTarget: number;
  /** Pooled over the folds: cold requests / requests. */
  readonly validationColdFraction: number;
  /** Mean over the folds, weighted by their days. */
  readonly validationMonthlyCost: number;
}

export interface Recommendation {
  readonly recommended: PlanOutcome;
  readonly chosen: Candidate | undefined;
  /** Every shape's refitted plans priced on the whole log: the frontier the chart shows. */
  readonly candidates: PlanOutcome[];
  /** The cross-validated (shape, internal target) pairs. */
  readonly validation: Candidate[];
  readonly folds: number;
}

/**
 * Chooses the shape and the internal target whose plans, fitted without each fold, best meet the goal on that fold
 * (cold fraction pooled over the folds at most the target, cheapest; or with a budget, fewest cold within it), then
 * refits that pair on the whole log. `maxWindows` drops plans with more windows.
 */
export function recommend(p: PlanInputs, goal: PlanGoal, maxWindows = DEFAULT_MAX_WINDOWS): Recommendation {
  const target = "targetColdFraction" in goal ? goal.targetColdFraction : 0.05;
  const first = p.times[0];
  const last = p.times[p.times.length - 1];
  const folds = weekFolds(first, last);
  const lead = p.schedule.leadMinutes;
  const targets = [...new Set(TARGET_MULTIPLES.map((m) => Math.min(1, m * Math.max(target, 0.005))))];
  const pairs = SHAPES.flatMap((shape) => targets.map((internalTarget) => ({ shape, internalTarget })));

  const validation: Candidate[] = [];
  if (folds.length > 0) {
    const acc = pairs.map(() => ({ cold: 0, requests: 0, cost: 0, days: 0, tooMany: false }));
    for (const fold of folds) {
      const inFold = p.times.filter((t) => t >= fold.from && t < fold.to);
      const training = p.times.filter((t) => t < fold.from || t >= fold.to);
      if (inFold.length === 0 || training.length === 0) continue;
      // Training minutes: the whole span less the fold (the fold's minutes are not exposure for the scores).
      const scores = scoreBins(training, [{ from: first, to: fold.from }, { from: fold.to, to: last + 1 }], p);
      const cache = new Map<string, PlanOutcome>();
      pairs.forEach((pair, i) => {
        const windows = planFor(pair.shape, scores, pair.internalTarget, lead);
        let out = cache.get(windows);
        if (!out) cache.set(windows, (out = evaluateWindows("fold", windows, p, inFold)));
        acc[i].cold += out.coldRequests;
        acc[i].requests += out.requests;
        acc[i].cost += out.monthlyCost * out.periodDays;
        acc[i].days += out.periodDays;
        if (out.windowCount > maxWindows) acc[i].tooMany = true;
      });
    }
    pairs.forEach((pair, i) => {
      if (acc[i].requests > 0 && !acc[i].tooMany) validation.push({ ...pair, validationColdFraction: acc[i].cold / acc[i].requests, validationMonthlyCost: acc[i].cost / acc[i].days });
    });
  }

  const full = scoreBins(p.times, [{ from: first, to: last + 1 }], p);
  const refit = new Map<string, PlanOutcome>();
  const refitOf = (shape: ShapeName, internalTarget: number) => {
    const windows = planFor(shape, full, internalTarget, lead);
    let out = refit.get(windows);
    if (!out) refit.set(windows, (out = evaluateWindows(`${shape}, fitted to ${(internalTarget * 100).toFixed(1)}% cold`, windows, p)));
    return out;
  };
  const withinWindows = (o: PlanOutcome) => o.windowCount <= maxWindows;

  let chosen: Candidate | undefined;
  const pick = (list: Candidate[]) =>
    "targetColdFraction" in goal
      ? (list.filter((c) => c.validationColdFraction <= goal.targetColdFraction).sort(byCostThenCold)[0] ?? [...list].sort(byColdThenCost)[0])
      : (list.filter((c) => c.validationMonthlyCost <= goal.monthlyBudget).sort(byColdThenCost)[0] ?? [...list].sort(byCostThenCold)[0]);
  const usable = validation.filter((c) => withinWindows(refitOf(c.shape, c.internalTarget)));
  chosen = usable.length ? pick(usable) : undefined;

  let recommended: PlanOutcome;
  if (chosen) {
    recommended = { ...refitOf(chosen.shape, chosen.internalTarget), name: "recommended", validationColdFraction: chosen.validationColdFraction, validationMonthlyCost: chosen.validationMonthlyCost };
  } else {
    // No folds (under two weeks): the fit alone decides, with the goal as its own target.
    const fitted = pairs.map((c) => ({ c, out: refitOf(c.shape, c.internalTarget) })).filter((x) => withinWindows(x.out));
    const asCandidates = fitted.map((x) => ({ ...x.c, validationColdFraction: x.out.coldFraction, validationMonthlyCost: x.out.monthlyCost }));
    const best = pick(asCandidates);
    chosen = undefined;
    recommended = best ? { ...refitOf(best.shape, best.internalTarget), name: "recommended" } : evaluateWindows("recommended", "", p);
  }
  for (const shape of SHAPES) for (const t of targets) refitOf(shape, t);
  const candidates = [...refit.values()].filter(withinWindows).sort((a, b) => a.monthlyCost - b.monthlyCost);
  return { recommended, chosen, candidates, validation, folds: folds.length };
}

const byCostThenCold = (a: Candidate, b: Candidate) => a.validationMonthlyCost - b.validationMonthlyCost || a.validationColdFraction - b.validationColdFraction;
const byColdThenCost = (a: Candidate, b: Candidate) => a.validationColdFraction - b.validationColdFraction || a.validationMonthlyCost - b.validationMonthlyCost;

/** Warm stretches per day as [startMinute, endMinute) local (for drawing windows on the heatmap). */
export function warmSpans(levels: WeeklyLevels): { day: number; from: number; to: number }[] {
  const out: { day: number; from: number; to: number }[] = [];
  for (let d = 0; d < 7; d++) {
    let m = 0;
    while (m < MINUTES_PER_DAY) {
      if (levels[(d * MINUTES_PER_DAY + m) % MINUTES_PER_WEEK] === 0) {
        m++;
        continue;
      }
      const from = m;
      while (m < MINUTES_PER_DAY && levels[d * MINUTES_PER_DAY + m] > 0) m++;
      out.push({ day: d, from, to: m });
    }
  }
  return out;
}
