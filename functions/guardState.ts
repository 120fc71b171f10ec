/**
 * The budget guard's state, defined once: whether the guard holds the service down, for which budget, since when,
 * and the newest budget period it has heard of. The guard writes it; the guard, the deploy's reconcile step and a
 * person resuming by hand all read the same object (a JSON file in the guard's bucket, see guardStore.ts).
 *
 * Pure: `decide` turns the state and one budget notification into the next state and what to enforce. Budget
 * notifications arrive several times a day, at least once each (Eventarc may deliver one twice), and late or out of
 * order (https://cloud.google.com/eventarc/docs/retry-events; budgets-programmatic-notifications), so the rules only
 * move forward in time:
 * - a message of an older period than the newest one seen is stale and changes nothing;
 * - at or above ratio × budget the guard trips (or stays tripped);
 * - a tripped guard is released only by a message of a later period below the line, or of the same period whose
 *   budget was raised above the spend (a late message from before the trip has the same budget and a lower cost).
 */

/** Which budget tripped the guard. Only the monthly budget exists today; a daily cap is planned. */
export type BudgetKind = "monthly";

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

export interface Trip {
  readonly budget: BudgetKind;
  /** costIntervalStart of the period that tripped it. */
  readonly periodStart: string;
  /** When the guard tripped (the handler's clock). */
  readonly since: string;
  readonly costAmount: number;
  readonly budgetAmount: number;
  readonly currencyCode?: string;
}

export interface GuardState {
  readonly version: 1;
  /** Per budget, the newest costIntervalStart seen: anything older is stale. */
  readonly periods: Partial<Record<BudgetKind, string>>;
  /** Set while the guard holds the service down. */
  readonly trip?: Trip;
  /**
   * Set between a release being decided and every job being resumed: if resuming fails half-way, the redelivered
   * message finds this and finishes the job.
   */
  readonly releasing?: { readonly budget: BudgetKind; readonly since: string };
}

export const INITIAL_STATE: GuardState = { version: 1, periods: {} };

/**
 * What the guard must make true after a notification:
 * - `hold`: min instances 0 (and the cap), every warm-window job paused; also re-asserted for a stale or duplicate
 *   message while tripped, so a pause that failed once is finished by any later message;
 * - `release`: every paused warm-window job resumed, the cap lifted, min instances back to the schedule's level;
 * - `none`: nothing.
 */
export type Enforcement = "hold" | "release" | "none";

export interface Decision {
  readonly next: GuardState;
  readonly enforce: Enforcement;
  /** One line for the log: why. */
  readonly reason: string;
}

const instant = (iso: string) => Date.parse(iso);

/** Whether the figures are at or above the line the guard acts on. */
export function overBudget(n: BudgetNotification, ratio: number): boolean {
  return n.costAmount >= ratio * n.budgetAmount;
}

export function decide(state: GuardState, n: BudgetNotification, ratio: number, now: Date, budget: BudgetKind = "monthly"): Decision {
  const period = instant(n.costIntervalStart);
  const newest = state.periods[budget];
  const pendingRelease = state.releasing?.budget === budget && !state.trip;
  if (newest !== undefined && period < instant(newest)) {
    const enforce: Enforcement = state.trip ? "hold" : pendingRelease ? "release" : "none";
    return { next: state, enforce, reason: `stale: a ${budget} message of the period from ${n.costIntervalStart}, older than ${newest}` };
  }
  const periods = { ...state.periods, [budget]: n.costIntervalStart };
  const over = overBudget(n, ratio);
  const trip = state.trip;

  if (over) {
    if (trip) {
      // Still over: a duplicate, or the next period already over budget too. The trip moves to the newest period.
      const moved: Trip = period > instant(trip.periodStart) ? { ...trip, periodStart: n.costIntervalStart, costAmount: n.costAmount, budgetAmount: n.budgetAmount } : trip;
      return { next: { version: 1, periods, trip: moved }, enforce: "hold", reason: `still over: ${n.costAmount} >= ${ratio} x ${n.budgetAmount}` };
    }
    const tripped: Trip = {
      budget,
      periodStart: n.costIntervalStart,
      since: now.toISOString(),
      costAmount: n.costAmount,
      budgetAmount: n.budgetAmount,
      ...(n.currencyCode ? { currencyCode: n.currencyCode } : {}),
    };
    return { next: { version: 1, periods, trip: tripped }, enforce: "hold", reason: `tripped: ${n.costAmount} >= ${ratio} x ${n.budgetAmount}` };
  }

  if (trip) {
    const laterPeriod = period > instant(trip.periodStart);
    const raised = period === instant(trip.periodStart) && n.budgetAmount > trip.budgetAmount;
    if (laterPeriod || raised) {
      const why = laterPeriod ? `a new ${budget} period began ${n.costIntervalStart}` : `the budget was raised to ${n.budgetAmount}`;
      return { next: { version: 1, periods, releasing: { budget, since: now.toISOString() } }, enforce: "release", reason: `released: ${why}` };
    }
    return { next: { version: 1, periods, trip }, enforce: "hold", reason: `held: a message from before the trip (${n.costAmount} < ${ratio} x ${n.budgetAmount}, same budget)` };
  }
  if (pendingRelease) return { next: { version: 1, periods, releasing: state.releasing }, enforce: "release", reason: "finishing a release" };
  return { next: { version: 1, periods }, enforce: "none", reason: `below the line: ${n.costAmount} < ${ratio} x ${n.budgetAmount}` };
}

/** The state once a release has resumed every job. */
export function released(state: GuardState): GuardState {
  return { version: 1, periods: state.periods };
}

/** Parses a stored state; throws on anything that is not one (a guard never acts on a state it cannot read). */
export function parseGuardState(text: string): GuardState {
  const s = JSON.parse(text) as Partial<GuardState>;
  if (!s || typeof s !== "object" || s.version !== 1 || typeof s.periods !== "object" || s.periods === null) {
    throw new Error("guard state: not a version 1 state object");
  }
  if (s.trip !== undefined && (typeof s.trip.periodStart !== "string" || typeof s.trip.since !== "string" || s.trip.budget !== "monthly")) {
    throw new Error("guard state: trip must have budget, periodStart and since");
  }
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

/** The stack's budget as deployed (the guard's ratio and `warmstart:monthlyBudget`). */
export interface DeployedBudget {
  readonly ratio: number;
  readonly monthlyBudget: number;
}

/**
 * Whether a person may release a tripped guard now (npm run guard:reset): only when the guard itself would release at
 * its next notification, by the figures it holds. Asked through {@link decide} with the notification it would get:
 * - the first one of the next budget period (once that period has surely begun), at no cost yet;
 * - one of the trip's period with the same cost and the budget as now deployed: a release when that budget was
 *   raised above the line.
 * The state keeps the cost of the notification that tripped it (or of the newest period still over), not the spend
 * since: a raised budget that the spend has meanwhile passed again is released here and tripped again by the next
 * notification, as the guard would do.
 */
export function releasableNow(state: GuardState, budget: DeployedBudget | undefined, now: Date): { readonly release: boolean; readonly reason: string } {
  const trip = state.trip;
  if (!trip) return { release: true, reason: state.releasing ? "a release was decided and not finished" : "the guard does not hold the service" };
  const next = nextPeriodStart(trip.periodStart);
  const asked = (n: BudgetNotification) => decide(state, n, budget?.ratio ?? 1, now, trip.budget).enforce === "release";
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
