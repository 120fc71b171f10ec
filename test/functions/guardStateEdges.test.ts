/**
 * The guard state's edges, which the scenario tests in guardState.test.ts pass by: the exact lines a daily hold is
 * tripped and released at, which figures a trip records, the states the guard refuses to read, when the next budget
 * period begins, and what guard:reset tells a person. Found by mutation testing (npm run test:mutation -- --group guard).
 */
import { describe, expect, test } from "vitest";
import {
  dailyReleaseReason,
  decideMessage,
  finishRelease,
  INITIAL_STATE,
  nextPeriodStart,
  parseGuardState,
  releasableNow,
  type DailyTrip,
  type GuardMessage,
  type GuardRules,
  type GuardState,
  type MonitoringIncident,
} from "../../functions/guardState";

const ZONE = "America/New_York";
const RULES: GuardRules = { ratio: 1, timeZone: ZONE, dailyThresholdSeconds: 126_678.5 };
const at = (iso: string) => new Date(iso);
const incident = (over: Partial<MonitoringIncident> = {}): GuardMessage => ({ kind: "incident", incident: { incidentId: "0.a", state: "open", observedValue: 127_003.5, test: false, ...over } });
const budget = (costAmount: number, costIntervalStart = "2026-11-01T04:00:00Z"): GuardMessage => ({
  kind: "budget",
  notification: { costAmount, budgetAmount: 600, costIntervalStart, currencyCode: "USD" },
});
const TICK: GuardMessage = { kind: "tick" };
const TRIP: DailyTrip = { budget: "daily", incidentId: "0.a", since: "2026-11-20T20:00:00.000Z", until: "2026-11-21T05:00:00.000Z", timeZone: ZONE, observedSeconds: 127_003.5, thresholdSeconds: 126_678.5 };
const dailyHeld: GuardState = { version: 2, periods: {}, trips: { daily: TRIP } };

describe("where a daily hold begins and ends", () => {
  test("an incident at exactly the limit as deployed trips; a tenth of a second under it does not", () => {
    expect(decideMessage(INITIAL_STATE, incident({ observedValue: 126_678.5 }), RULES, at("2026-11-20T20:00:00Z")).tripped).toBe("daily");
    expect(decideMessage(INITIAL_STATE, incident({ observedValue: 126_678.4 }), RULES, at("2026-11-20T20:00:00Z")).enforce).toBe("none");
  });

  test("the trip records the limit as deployed, or, when the guard has none, the incident's own threshold", () => {
    const withRules = decideMessage(INITIAL_STATE, incident({ thresholdValue: 100_000 }), RULES, at("2026-11-20T20:00:00Z")).next.trips.daily!;
    expect(withRules).toMatchObject({ thresholdSeconds: 126_678.5, observedSeconds: 127_003.5, until: "2026-11-21T05:00:00.000Z", timeZone: ZONE });
    const fromIncident = decideMessage(INITIAL_STATE, incident({ thresholdValue: 100_000 }), { ratio: 1, timeZone: ZONE }, at("2026-11-20T20:00:00Z")).next.trips.daily!;
    expect(fromIncident.thresholdSeconds).toBe(100_000);
    const neither = decideMessage(INITIAL_STATE, incident({ observedValue: undefined }), { ratio: 1, timeZone: ZONE }, at("2026-11-20T20:00:00Z")).next.trips.daily!;
    expect(neither).not.toHaveProperty("thresholdSeconds");
    expect(neither).not.toHaveProperty("observedSeconds");
  });

  test("a raised limit releases only above what tripped it: equal still holds", () => {
    expect(dailyReleaseReason(TRIP, 127_003.5, at("2026-11-20T21:00:00Z"))).toBeUndefined();
    expect(dailyReleaseReason(TRIP, 127_003.6, at("2026-11-20T21:00:00Z"))).toBe("the daily spend limit was raised to 127003.6 instance-seconds, above the 127003.5 that tripped it");
    expect(dailyReleaseReason(TRIP, undefined, at("2026-11-20T21:00:00Z"))).toBeUndefined();
    expect(dailyReleaseReason({ ...TRIP, observedSeconds: undefined }, 500_000, at("2026-11-20T21:00:00Z"))).toBeUndefined();
  });

  test("it ends at exactly local midnight, not a millisecond before", () => {
    expect(dailyReleaseReason(TRIP, undefined, at("2026-11-21T04:59:59.999Z"))).toBeUndefined();
    expect(dailyReleaseReason(TRIP, undefined, at("2026-11-21T05:00:00Z"))).toBe(`a new local day began at 2026-11-21T05:00:00.000Z (${ZONE})`);
  });
});

describe("what a decision says", () => {
  test("a tick says whether a daily hold lasts; one that ends it says only why", () => {
    expect(decideMessage(INITIAL_STATE, TICK, RULES, at("2026-11-20T21:00:00Z")).reason).toBe("midnight tick: no daily hold");
    expect(decideMessage(dailyHeld, TICK, RULES, at("2026-11-20T21:00:00Z")).reason).toBe("midnight tick: the daily hold lasts until 2026-11-21T05:00:00.000Z");
    expect(decideMessage(dailyHeld, TICK, RULES, at("2026-11-21T05:00:30Z"))).toMatchObject({
      enforce: "release",
      released: ["daily"],
      reason: `daily released: a new local day began at 2026-11-21T05:00:00.000Z (${ZONE})`,
    });
  });

  test("a release of one hold while the other holds names the one still holding", () => {
    const both: GuardState = { ...dailyHeld, periods: { monthly: "2026-11-01T04:00:00Z" }, trips: { ...dailyHeld.trips, monthly: { budget: "monthly", periodStart: "2026-11-01T04:00:00Z", since: "2026-11-20T10:00:00.000Z", costAmount: 612, budgetAmount: 600 } } };
    const d = decideMessage(both, TICK, RULES, at("2026-11-21T05:00:30Z"));
    expect(d.enforce).toBe("hold");
    expect(d.reason).toMatch(/^daily released: .*; still held by the monthly budget$/);
  });

  test("a release that is decided but not finished stays marked while a hold remains", () => {
    const pending: GuardState = { ...dailyHeld, releasing: { budget: "monthly", since: "2026-11-20T10:00:00.000Z" } };
    expect(finishRelease(pending)).toBe(pending);
    const done: GuardState = { version: 2, periods: {}, trips: {}, releasing: { budget: "daily", since: "2026-11-20T10:00:00.000Z" } };
    expect(finishRelease(done)).toEqual({ version: 2, periods: {}, trips: {} });
  });
});

describe("the state file the guard refuses", () => {
  test.each([
    ["null", /not a version 1 or 2 state object/],
    ['"text"', /not a version 1 or 2 state object/],
    ['{"version":2,"trips":{}}', /not a version 1 or 2 state object/],
    ['{"version":2,"periods":null,"trips":{}}', /not a version 1 or 2 state object/],
    ['{"version":3,"periods":{},"trips":{}}', /not a version 1 or 2 state object/],
    ['{"version":2,"periods":{},"trips":null}', /not a version 1 or 2 state object/],
    ['{"version":2,"periods":{},"trips":{"monthly":{"budget":"daily","periodStart":"x","since":"y"}}}', /trip must have budget, periodStart and since/],
    ['{"version":2,"periods":{},"trips":{"monthly":{"budget":"monthly","since":"y"}}}', /trip must have budget, periodStart and since/],
    ['{"version":2,"periods":{},"trips":{"monthly":{"budget":"monthly","periodStart":"x"}}}', /trip must have budget, periodStart and since/],
    ['{"version":1,"periods":{},"trip":{"budget":"monthly","periodStart":"x"}}', /trip must have budget, periodStart and since/],
    ...["budget", "incidentId", "since", "until", "timeZone"].map((field) => [JSON.stringify({ version: 2, periods: {}, trips: { daily: { ...TRIP, [field]: undefined } } }), /a daily trip must have/] as [string, RegExp]),
    [JSON.stringify({ version: 2, periods: {}, trips: { daily: { ...TRIP, since: "yesterday" } } }), /a daily trip must have/],
    [JSON.stringify({ version: 2, periods: {}, trips: { daily: { ...TRIP, until: "midnight" } } }), /a daily trip must have/],
  ])("%s", (text, error) => {
    expect(() => parseGuardState(text)).toThrow(error);
  });

  test("a well-formed version 2 state reads as written; version 1 keeps its period and a pending release", () => {
    expect(parseGuardState(JSON.stringify(dailyHeld))).toEqual(dailyHeld);
    expect(parseGuardState('{"version":1,"periods":{"monthly":"2026-11-01T04:00:00Z"},"releasing":{"budget":"monthly","since":"2026-11-02T00:00:00Z"}}')).toEqual({
      version: 2,
      periods: { monthly: "2026-11-01T04:00:00Z" },
      trips: {},
      releasing: { budget: "monthly", since: "2026-11-02T00:00:00Z" },
    });
    expect(parseGuardState('{"version":1,"periods":{"monthly":7}}')).toEqual({ version: 2, periods: {}, trips: {} });
  });
});

test("the next budget period begins at most a calendar month and an hour after this one", () => {
  expect(nextPeriodStart("2026-11-01T04:00:00Z").toISOString()).toBe("2026-12-01T05:00:00.000Z");
  expect(nextPeriodStart("2026-12-01T05:00:00Z").toISOString()).toBe("2027-01-01T06:00:00.000Z");
});

describe("what guard:reset tells a person", () => {
  const deployed = { ratio: 1, monthlyBudget: 600, dailySpendLimit: 50, dailyThresholdSeconds: 126_678.5 };

  test("a daily hold: when it ends, and the limit that would release it now", () => {
    expect(releasableNow(dailyHeld, deployed, at("2026-11-20T21:00:00Z"))).toEqual({
      release: false,
      reason:
        `the daily spend limit holds since 2026-11-20T20:00:00.000Z (incident 0.a: 127003.5 billable instance-seconds in 24 h) until the local day ends at 2026-11-21T05:00:00.000Z (${ZONE}); ` +
        "raise warmstart:dailySpendLimit to more than 50.13 (then pulumi up) and run this again, or wait until then: the midnight tick releases it",
    });
    // A deploy from before the daily limit: no price to name.
    expect(releasableNow(dailyHeld, { ratio: 1, monthlyBudget: 600 }, at("2026-11-20T21:00:00Z")).reason).toMatch(/\(America\/New_York\); wait until then/);
    expect(releasableNow(dailyHeld, deployed, at("2026-11-21T05:00:00Z"))).toEqual({
      release: true,
      reason: `a new local day began at 2026-11-21T05:00:00.000Z (${ZONE}); the guard releases the daily hold at its next message (the midnight tick at the latest)`,
    });
  });

  test("a monthly hold: the budget that would release it, by the ratio as deployed, and when the period ends", () => {
    const monthly: GuardState = { version: 2, periods: { monthly: "2026-11-01T04:00:00Z" }, trips: { monthly: { budget: "monthly", periodStart: "2026-11-01T04:00:00Z", since: "2026-11-20T10:00:00.000Z", costAmount: 612, budgetAmount: 600, currencyCode: "USD" } } };
    const verdict = releasableNow(monthly, { ...deployed, ratio: 0.9 }, at("2026-11-20T21:00:00Z"));
    expect(verdict.release).toBe(false);
    expect(verdict.reason).toBe(
      "the budget guard holds since 2026-11-20T10:00:00.000Z: the period's cost 612 USD is at or above 0.9 x 600, and the next budget notification (they come several times a day) would trip it again. " +
        "Raise the budget to more than 680 (pulumi config set warmstart:monthlyBudget <amount>, then pulumi up) and run this again, or wait for the next budget period (by 2026-12-01T05:00:00.000Z)",
    );
    expect(releasableNow(monthly, undefined, at("2026-11-20T21:00:00Z")).reason).toMatch(/is at or above the budget 600, .* more than 612 /);
    expect(releasableNow(monthly, deployed, at("2026-12-01T05:00:00Z"))).toEqual({ release: true, reason: "a new budget period has begun (by 2026-12-01T05:00:00.000Z); the guard releases at its first notification" });
    expect(releasableNow(monthly, deployed, at("2026-12-01T04:59:59Z")).release).toBe(false);
    expect(releasableNow(monthly, { ...deployed, monthlyBudget: 700 }, at("2026-11-20T21:00:00Z"))).toEqual({
      release: true,
      reason: "the budget was raised to 700 since the trip (612 < 1 x 700); the guard releases at its next notification",
    });
  });

  test("nothing held: release, and say why", () => {
    expect(releasableNow(INITIAL_STATE, deployed, at("2026-11-20T21:00:00Z"))).toEqual({ release: true, reason: "the guard does not hold the service" });
    expect(releasableNow({ ...INITIAL_STATE, releasing: { budget: "daily", since: "2026-11-20T10:00:00.000Z" } }, deployed, at("2026-11-20T21:00:00Z"))).toEqual({ release: true, reason: "a release was decided and not finished" });
  });

  test("a budget notification of a later period also ends a daily hold that has run out", () => {
    const d = decideMessage(dailyHeld, budget(3, "2026-12-01T05:00:00Z"), RULES, at("2026-11-21T06:00:00Z"));
    expect(d).toMatchObject({ enforce: "release", released: ["daily"] });
  });
});
