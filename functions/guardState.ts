/**
 * The budget guard's state, defined once: which holds keep the service down (the monthly budget, the daily spend
 * limit, or both), since when, and what the guard has already heard. The guard writes it; the guard, the deploy's
 * reconcile step and a person resuming by hand all read the same object (a JSON file in the guard's bucket, see
 * guardStore.ts).
 *
 * Pure: `decideMessage` turns the state and one message into the next state and what to enforce. Three kinds of
 * message reach the guard on its topic:
 * - a budget notification (Cloud Billing, several times a day): the monthly hold;
 * - a Cloud Monitoring incident of the daily spend-limit policy: the daily hold;
 * - the midnight tick (a Cloud Scheduler job at local midnight): nothing but the time, so a daily hold ends on time.
 * Each arrives at least once (Eventarc may deliver one twice), and late or out of order
 * (https://cloud.google.com/eventarc/docs/retry-events; budgets-programmatic-notifications), so the rules only move
 * forward in time. The two holds compose: while either holds, the service stays held, and releasing one leaves the
 * other as it is.
 *
 * Monthly: a message of an older period than the newest one seen is stale and changes nothing; at or above ratio ×
 * budget the guard trips (or stays tripped); it is released only by a message of a later period below the line, or
 * of the same period whose budget was raised above the spend (a late message from before the trip has the same
 * budget and a lower cost).
 *
 * Daily: an open incident trips it until the first local midnight after the guard acts on it, in the stack's time
 * zone; any message from then on releases it (the tick is the one that comes on time), and so does the limit as
 * deployed being raised above the spend the incident reported, or turned off. The incident that tripped it is
 * remembered after the release: its late copies, and the reminders Monitoring repeats while it stays open, trip
 * again only once a whole 24 hours lie after the release (the incident's trailing-24-hour window then holds no spend
 * from before it). A closed incident changes nothing.
 */
import { nextLocalMidnight } from "./localDay";

/** Which hold: the monthly budget (Cloud Billing) or the daily spend limit (Cloud Monitoring). */
export type BudgetKind = "monthly" | "daily";

/** What each hold is called in logs and messages. */
export const HOLD_LABELS: Readonly<Record<BudgetKind, string>> = { monthly: "the monthly budget", daily: "the daily spend limit" };

/** The budget notification's JSON (Cloud Billing, schema 1.0). */
export interface BudgetNotification {
  readonly budgetDisplayName?: string;
  readonly costAmount: number;
  readonly budgetAmount: number;
  readonly alertThresholdExceeded?: number;
  /** Start of the budget period the figures are for (RFC 3339). */
  readonly costIntervalStart: string;
  readonly currencyCode?: string;
}

/**
 * What the guard reads of a Cloud Monitoring incident notification (schema 1.2: `{"incident": {...}, "version":
 * "1.2"}`, https://cloud.google.com/monitoring/support/notification-options#schema-pubsub).
 */
export interface MonitoringIncident {
  readonly incidentId: string;
  /** `open` when the condition is met, `closed` when it no longer is (Monitoring writes lowercase; tests upper). */
  readonly state: "open" | "closed";
  /** The alert policy's display name. */
  readonly policyName?: string;
  readonly conditionName?: string;
  /** When the condition began to be met (`started_at`, seconds since the epoch). */
  readonly startedAt?: number;
  /** The value that met the condition (`observed_value`): billable instance-seconds in the last 24 hours. */
  readonly observedValue?: number;
  /** The condition's threshold then (`threshold_value`). */
  readonly thresholdValue?: number;
  /** The console's "send test notification" sends `"version": "test"`: acknowledged, never acted on. */
  readonly test: boolean;
}

export type GuardMessage =
  | { readonly kind: "budget"; readonly notification: BudgetNotification }
  | { readonly kind: "incident"; readonly incident: MonitoringIncident }
  | { readonly kind: "tick" };

export interface MonthlyTrip {
  readonly budget: "monthly";
  /** costIntervalStart of the period that tripped it. */
  readonly periodStart: string;
  /** When the guard tripped (the handler's clock). */
  readonly since: string;
  readonly costAmount: number;
  readonly budgetAmount: number;
  readonly currencyCode?: string;
}

export interface DailyTrip {
  readonly budget: "daily";
  /** The Monitoring incident that tripped it. */
  readonly incidentId: string;
  readonly policyName?: string;
  /** When the guard tripped (the handler's clock). */
  readonly since: string;
  /** The first local midnight after `since` in `timeZone`: the hold ends there. */
  readonly until: string;
  readonly timeZone: string;
  /** Billable instance-seconds in the last 24 hours the incident reported, when it did. */
  readonly observedSeconds?: number;
  /** The limit as deployed when it tripped, in billable instance-seconds in 24 hours. */
  readonly thresholdSeconds?: number;
}

export type Trip = MonthlyTrip | DailyTrip;

/**
 * Version 2 (the daily spend limit). A guard deployed before reads only version 1 and refuses this one (its message
 * comes back until the new guard is deployed, which the same `pulumi up` does); the new guard reads version 1 as a
 * state with at most a monthly trip, and writes version 2 at its first change.
 */
export interface GuardState {
  readonly version: 2;
  /** The newest budget period (costIntervalStart) seen: anything older is stale. */
  readonly periods: { readonly monthly?: string };
  /** The holds in force; the service is held while there is any. */
  readonly trips: { readonly monthly?: MonthlyTrip; readonly daily?: DailyTrip };
  /** The daily incident released last, and when: its copies and reminders do not trip again within 24 hours. */
  readonly dailyReleased?: { readonly incidentId: string; readonly at: string };
  /**
   * Set between a release being decided and every job being resumed: if resuming fails half-way, the redelivered
   * message finds this and finishes the job.
   */
  readonly releasing?: { readonly budget: BudgetKind; readonly since: string };
}

export const INITIAL_STATE: GuardState = { version: 2, periods: {}, trips: {} };

/**
 * What the guard must make true after a message:
 * - `hold`: min instances 0 (and the cap), every warm-window job paused; also re-asserted for a stale or duplicate
 *   message while held, so a pause that failed once is finished by any later message;
 * - `release`: every paused warm-window job resumed, the cap lifted, min instances back to the schedule's level;
 * - `none`: nothing.
 */
export type Enforcement = "hold" | "release" | "none";

export interface Decision {
  readonly next: GuardState;
  readonly enforce: Enforcement;
  /** One line for the log: why. */
  readonly reason: string;
  /** The hold this message started, if it started one. */
  readonly tripped?: BudgetKind;
  /** The holds this message ended (the other may still hold). */
  readonly released: readonly BudgetKind[];
}

/** What the guard compares messages with: its settings as deployed, and the stack's time zone. */
export interface GuardRules {
  readonly ratio: number;
  /** The stack's time zone (`warmstart:timezone`): a daily hold ends at its midnight. */
  readonly timeZone: string;
  /**
   * The daily limit as deployed, in billable instance-seconds in 24 hours: 0 when there is none (a daily hold then
   * ends at the next message); undefined when not known (only midnight ends a daily hold).
   */
  readonly dailyThresholdSeconds?: number;
}

const instant = (iso: string) => Date.parse(iso);
const DAY_MS = 86_400_000;

/** Whether the figures are at or above the line the guard acts on. */
export function overBudget(n: BudgetNotification, ratio: number): boolean {
  return n.costAmount >= ratio * n.budgetAmount;
}

/** The holds in force, monthly first. */
export function activeTrips(state: GuardState): Trip[] {
  return [state.trips.monthly, state.trips.daily].filter((t): t is Trip => t !== undefined);
}

export function held(state: GuardState): boolean {
  return activeTrips(state).length > 0;
}

/** Since when the service is held: the earliest trip in force. */
export function heldSince(state: GuardState): string | undefined {
  return activeTrips(state)
    .map((t) => t.since)
    .sort()[0];
}

/** Why a daily hold ends now, or undefined while it still holds. */
export function dailyReleaseReason(trip: DailyTrip, thresholdSeconds: number | undefined, now: Date): string | undefined {
  if (now.getTime() >= instant(trip.until)) return `a new local day began at ${trip.until} (${trip.timeZone})`;
  if (thresholdSeconds === 0) return "the daily spend limit was turned off";
  if (thresholdSeconds !== undefined && trip.observedSeconds !== undefined && thresholdSeconds > trip.observedSeconds) {
    return `the daily spend limit was raised to ${round(thresholdSeconds)} instance-seconds, above the ${round(trip.observedSeconds)} that tripped it`;
  }
  return undefined;
}

const round = (n: number) => Math.round(n * 10) / 10;

interface Step {
  readonly state: GuardState;
  readonly reason: string;
  readonly tripped?: BudgetKind;
  readonly released?: BudgetKind;
}

function withTrips(s: GuardState, trips: GuardState["trips"]): GuardState {
  return { ...s, trips };
}

function without(s: GuardState, kind: BudgetKind): GuardState {
  const trips = { ...s.trips };
  delete trips[kind];
  return withTrips(s, trips);
}

function monthlyStep(s: GuardState, n: BudgetNotification, ratio: number, now: Date): Step {
  const period = instant(n.costIntervalStart);
  const newest = s.periods.monthly;
  if (newest !== undefined && period < instant(newest)) {
    return { state: s, reason: `stale: a monthly message of the period from ${n.costIntervalStart}, older than ${newest}` };
  }
  const periods = { ...s.periods, monthly: n.costIntervalStart };
  const trip = s.trips.monthly;
  if (overBudget(n, ratio)) {
    if (trip) {
      // Still over: a duplicate, or the next period already over budget too. The trip moves to the newest period.
      const moved: MonthlyTrip = period > instant(trip.periodStart) ? { ...trip, periodStart: n.costIntervalStart, costAmount: n.costAmount, budgetAmount: n.budgetAmount } : trip;
      return { state: { ...withTrips(s, { ...s.trips, monthly: moved }), periods }, reason: `still over: ${n.costAmount} >= ${ratio} x ${n.budgetAmount}` };
    }
    const tripped: MonthlyTrip = {
      budget: "monthly",
      periodStart: n.costIntervalStart,
      since: now.toISOString(),
      costAmount: n.costAmount,
      budgetAmount: n.budgetAmount,
      ...(n.currencyCode ? { currencyCode: n.currencyCode } : {}),
    };
    return { state: { ...withTrips(s, { ...s.trips, monthly: tripped }), periods }, reason: `tripped: ${n.costAmount} >= ${ratio} x ${n.budgetAmount}`, tripped: "monthly" };
  }
  if (trip) {
    const laterPeriod = period > instant(trip.periodStart);
    const raised = period === instant(trip.periodStart) && n.budgetAmount > trip.budgetAmount;
    if (laterPeriod || raised) {
      const why = laterPeriod ? `a new monthly period began ${n.costIntervalStart}` : `the budget was raised to ${n.budgetAmount}`;
      return { state: { ...without(s, "monthly"), periods }, reason: `released: ${why}`, released: "monthly" };
    }
    return { state: { ...s, periods }, reason: `held: a message from before the trip (${n.costAmount} < ${ratio} x ${n.budgetAmount}, same budget)` };
  }
  return { state: { ...s, periods }, reason: `below the line: ${n.costAmount} < ${ratio} x ${n.budgetAmount}` };
}

function incidentStep(s: GuardState, inc: MonitoringIncident, rules: GuardRules, now: Date): Step {
  const id = inc.incidentId;
  if (inc.test) return { state: s, reason: `a test notification from Cloud Monitoring (incident ${id}): not acted on` };
  if (inc.state === "closed") return { state: s, reason: `incident ${id} closed: nothing to do (a daily hold ends at local midnight)` };
  const daily = s.trips.daily;
  if (daily) return { state: s, reason: `still over the daily spend limit (incident ${id}); held until ${daily.until} (${daily.timeZone})` };
  if (rules.dailyThresholdSeconds === 0) return { state: s, reason: `incident ${id}: the daily spend limit is off (warmstart:dailySpendLimit 0)` };
  if (rules.dailyThresholdSeconds !== undefined && inc.observedValue !== undefined && inc.observedValue < rules.dailyThresholdSeconds) {
    return { state: s, reason: `incident ${id} reported ${round(inc.observedValue)} instance-seconds, below the daily spend limit as deployed now (${round(rules.dailyThresholdSeconds)})` };
  }
  const last = s.dailyReleased;
  if (last?.incidentId === id && now.getTime() - instant(last.at) < DAY_MS) {
    return { state: s, reason: `incident ${id} tripped the guard before and was released at ${last.at}; its 24 h window still holds spend from before the release` };
  }
  const tripped: DailyTrip = {
    budget: "daily",
    incidentId: id,
    ...(inc.policyName ? { policyName: inc.policyName } : {}),
    since: now.toISOString(),
    until: nextLocalMidnight(now, rules.timeZone).toISOString(),
    timeZone: rules.timeZone,
    ...(inc.observedValue !== undefined ? { observedSeconds: inc.observedValue } : {}),
    ...(rules.dailyThresholdSeconds !== undefined ? { thresholdSeconds: rules.dailyThresholdSeconds } : inc.thresholdValue !== undefined ? { thresholdSeconds: inc.thresholdValue } : {}),
  };
  return { state: withTrips(s, { ...s.trips, daily: tripped }), reason: `tripped: the daily spend limit (incident ${id}) until ${tripped.until} (local midnight, ${rules.timeZone})`, tripped: "daily" };
}

/** A daily hold that has ended by now, released and remembered. */
function expireDaily(s: GuardState, rules: GuardRules, now: Date): Step | undefined {
  const daily = s.trips.daily;
  const why = daily && dailyReleaseReason(daily, rules.dailyThresholdSeconds, now);
  if (!daily || !why) return undefined;
  return { state: { ...without(s, "daily"), dailyReleased: { incidentId: daily.incidentId, at: now.toISOString() } }, reason: `daily released: ${why}`, released: "daily" };
}

export function decideMessage(state: GuardState, msg: GuardMessage, rules: GuardRules, now: Date): Decision {
  const pending = state.releasing;
  let s = withoutReleasing(state);
  const released: BudgetKind[] = [];
  const reasons: string[] = [];
  const expired = expireDaily(s, rules, now);
  if (expired) {
    s = expired.state;
    released.push("daily");
    reasons.push(expired.reason);
  }
  const step = msg.kind === "budget" ? monthlyStep(s, msg.notification, rules.ratio, now) : msg.kind === "incident" ? incidentStep(s, msg.incident, rules, now) : undefined;
  if (step) {
    s = step.state;
    reasons.push(step.reason);
    if (step.released) released.push(step.released);
  } else if (!expired) {
    reasons.push(s.trips.daily ? `midnight tick: the daily hold lasts until ${s.trips.daily.until}` : "midnight tick: no daily hold");
  }
  const reason = reasons.join("; ");
  const base = { tripped: step?.tripped, released };
  if (held(s)) {
    const still = activeTrips(s).map((t) => HOLD_LABELS[t.budget]);
    return { ...base, next: s, enforce: "hold", reason: released.length > 0 ? `${reason}; still held by ${still.join(" and ")}` : reason };
  }
  if (held(state)) return { ...base, next: { ...s, releasing: { budget: released[released.length - 1], since: now.toISOString() } }, enforce: "release", reason };
  if (pending) return { ...base, next: { ...s, releasing: pending }, enforce: "release", reason: `${reason}; finishing a release` };
  return { ...base, next: s, enforce: "none", reason };
}

/** The monthly rules alone, for one budget notification (the daily hold ends only at midnight here). */
export function decide(state: GuardState, n: BudgetNotification, ratio: number, now: Date): Decision {
  return decideMessage(state, { kind: "budget", notification: n }, { ratio, timeZone: "UTC" }, now);
}

/** The state once a release has resumed every job. */
export function finishRelease(state: GuardState): GuardState {
  return state.releasing && !held(state) ? withoutReleasing(state) : state;
}

function withoutReleasing(s: GuardState): GuardState {
  return { version: 2, periods: s.periods, trips: s.trips, ...(s.dailyReleased ? { dailyReleased: s.dailyReleased } : {}) };
}

/** The state with every hold cleared (npm run guard:reset), the daily incident remembered as released now. */
export function released(state: GuardState, now: Date): GuardState {
  const daily = state.trips.daily;
  return { version: 2, periods: state.periods, trips: {}, ...(daily ? { dailyReleased: { incidentId: daily.incidentId, at: now.toISOString() } } : state.dailyReleased ? { dailyReleased: state.dailyReleased } : {}) };
}

const isString = (v: unknown): v is string => typeof v === "string";
const isTime = (v: unknown): v is string => isString(v) && !Number.isNaN(Date.parse(v));

function checkMonthly(t: Partial<MonthlyTrip> | undefined): void {
  if (t !== undefined && (t.budget !== "monthly" || !isString(t.periodStart) || !isString(t.since))) throw new Error("guard state: trip must have budget, periodStart and since");
}

function checkDaily(t: Partial<DailyTrip> | undefined): void {
  if (t !== undefined && (t.budget !== "daily" || !isString(t.incidentId) || !isTime(t.since) || !isTime(t.until) || !isString(t.timeZone))) {
    throw new Error("guard state: a daily trip must have budget, incidentId, since, until and timeZone");
  }
}

/**
 * Parses a stored state; throws on anything that is not one (a guard never acts on a state it cannot read). Reads
 * version 1 too, what a guard deployed before the daily spend limit wrote: `{version: 1, periods, trip?, releasing?}`
 * with only monthly trips.
 */
export function parseGuardState(text: string): GuardState {
  const s = JSON.parse(text) as Record<string, any> | null;
  if (!s || typeof s !== "object" || typeof s.periods !== "object" || s.periods === null) throw new Error("guard state: not a version 1 or 2 state object");
  if (s.version === 1) {
    checkMonthly(s.trip);
    const periods = isString(s.periods.monthly) ? { monthly: s.periods.monthly as string } : {};
    return { version: 2, periods, trips: s.trip ? { monthly: s.trip as MonthlyTrip } : {}, ...(s.releasing ? { releasing: s.releasing as GuardState["releasing"] } : {}) };
  }
  if (s.version !== 2 || typeof s.trips !== "object" || s.trips === null) throw new Error("guard state: not a version 1 or 2 state object");
  checkMonthly(s.trips.monthly);
  checkDaily(s.trips.daily);
  return s as GuardState;
}

/**
 * The latest the monthly budget period after the one that began at `periodStart` can begin: the same instant a
 * calendar month later (UTC), plus an hour. A period begins at midnight in the billing account's time zone, which a
 * DST change between the two months moves by up to an hour; the hour makes this never early.
 */
export function nextPeriodStart(periodStart: string): Date {
  const d = new Date(periodStart);
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()) + 3_600_000);
}

/** The stack's limits as deployed (the guard's ratio, `warmstart:monthlyBudget`, `warmstart:dailySpendLimit`). */
export interface DeployedBudget {
  readonly ratio: number;
  readonly monthlyBudget: number;
  /** USD a day; 0: none. Undefined from the outputs of a deploy that predates the daily limit. */
  readonly dailySpendLimit?: number;
  /** The daily limit in billable instance-seconds in 24 hours; 0: none; undefined as above. */
  readonly dailyThresholdSeconds?: number;
}

/**
 * Whether a person may release the guard now (npm run guard:reset): only when the guard itself would release every
 * hold at its next message, by the figures it holds. Asked through {@link decideMessage}:
 * - monthly, with the notification it would get: the first one of the next budget period (once that period has
 *   surely begun), at no cost yet; or one of the trip's period with the same cost and the budget as now deployed, a
 *   release when that budget was raised above the line. The state keeps the cost of the notification that tripped it
 *   (or of the newest period still over), not the spend since: a raised budget that the spend has meanwhile passed
 *   again is released here and tripped again by the next notification, as the guard would do;
 * - daily, with the midnight tick: released once the local day is over, or when the limit as deployed is above the
 *   spend the incident reported (or off).
 */
export function releasableNow(state: GuardState, budget: DeployedBudget | undefined, now: Date): { readonly release: boolean; readonly reason: string } {
  if (!held(state)) return { release: true, reason: state.releasing ? "a release was decided and not finished" : "the guard does not hold the service" };
  const rules: GuardRules = { ratio: budget?.ratio ?? 1, timeZone: state.trips.daily?.timeZone ?? "UTC", dailyThresholdSeconds: budget?.dailyThresholdSeconds };
  const verdicts = activeTrips(state).map((t) => (t.budget === "monthly" ? monthlyVerdict(state, t, budget, rules, now) : dailyVerdict(t, budget, now)));
  const holding = verdicts.filter((v) => !v.release);
  if (holding.length === 0) return { release: true, reason: verdicts.map((v) => v.reason).join("; ") };
  return { release: false, reason: holding.map((v) => v.reason).join("; and ") };
}

function monthlyVerdict(state: GuardState, trip: MonthlyTrip, budget: DeployedBudget | undefined, rules: GuardRules, now: Date): { release: boolean; reason: string } {
  const next = nextPeriodStart(trip.periodStart);
  const monthlyOnly: GuardState = { ...state, trips: { monthly: trip } };
  const asked = (n: BudgetNotification) => decideMessage(monthlyOnly, { kind: "budget", notification: n }, rules, now).released.includes("monthly");
  if (now >= next && asked({ costAmount: 0, budgetAmount: budget?.monthlyBudget ?? trip.budgetAmount, costIntervalStart: next.toISOString() })) {
    return { release: true, reason: `a new budget period has begun (by ${next.toISOString()}); the guard releases at its first notification` };
  }
  if (budget && asked({ costAmount: trip.costAmount, budgetAmount: budget.monthlyBudget, costIntervalStart: trip.periodStart })) {
    return { release: true, reason: `the budget was raised to ${budget.monthlyBudget} since the trip (${trip.costAmount} < ${budget.ratio} x ${budget.monthlyBudget}); the guard releases at its next notification` };
  }
  const line = budget ? `${budget.ratio} x ${budget.monthlyBudget}` : `the budget ${trip.budgetAmount}`;
  return {
    release: false,
    reason:
      `the budget guard holds since ${trip.since}: the period's cost ${trip.costAmount}${trip.currencyCode ? ` ${trip.currencyCode}` : ""} is at or above ${line}, ` +
      "and the next budget notification (they come several times a day) would trip it again. Raise the budget to more " +
      `than ${Number((trip.costAmount / (budget?.ratio ?? 1)).toFixed(2))} (pulumi config set warmstart:monthlyBudget <amount>, then pulumi up) and run this again, ` +
      `or wait for the next budget period (by ${next.toISOString()})`,
  };
}

function dailyVerdict(trip: DailyTrip, budget: DeployedBudget | undefined, now: Date): { release: boolean; reason: string } {
  const why = dailyReleaseReason(trip, budget?.dailyThresholdSeconds, now);
  if (why) return { release: true, reason: `${why}; the guard releases the daily hold at its next message (the midnight tick at the latest)` };
  const observed = trip.observedSeconds;
  // The price of an instance-second as deployed: the limit over its threshold.
  const perSecond = budget?.dailySpendLimit && budget.dailyThresholdSeconds ? budget.dailySpendLimit / budget.dailyThresholdSeconds : undefined;
  const raise =
    observed !== undefined && perSecond !== undefined
      ? `raise warmstart:dailySpendLimit to more than ${Number((observed * perSecond).toFixed(2))} (then pulumi up) and run this again, or `
      : "";
  return {
    release: false,
    reason:
      `the daily spend limit holds since ${trip.since} (incident ${trip.incidentId}${observed !== undefined ? `: ${round(observed)} billable instance-seconds in 24 h` : ""}) ` +
      `until the local day ends at ${trip.until} (${trip.timeZone}); ${raise}wait until then: the midnight tick releases it`,
  };
}
