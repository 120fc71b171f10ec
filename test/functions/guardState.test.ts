import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { localDate, nextLocalMidnight } from "../../functions/localDay";
import {
  decideMessage,
  finishRelease,
  held,
  INITIAL_STATE,
  parseGuardState,
  releasableNow,
  type BudgetNotification,
  type GuardMessage,
  type GuardRules,
  type GuardState,
  type MonitoringIncident,
} from "../../functions/guardState";

const ZONE = "America/New_York";
const RULES: GuardRules = { ratio: 1, timeZone: ZONE, dailyThresholdSeconds: 126_678.49 };
const budget = (costAmount: number, costIntervalStart = "2026-11-01T04:00:00Z"): GuardMessage => ({
  kind: "budget",
  notification: { costAmount, budgetAmount: 600, costIntervalStart, currencyCode: "USD" } as BudgetNotification,
});
const incident = (incidentId = "0.nqp7rsdkc4mv", over: Partial<MonitoringIncident> = {}): GuardMessage => ({
  kind: "incident",
  incident: { incidentId, state: "open", policyName: "warmstart imagegen: daily spend limit", observedValue: 127_003.5, test: false, ...over },
});
const TICK: GuardMessage = { kind: "tick" };
const at = (iso: string) => new Date(iso);
/** Applies messages in order, each at its instant, finishing each release as the handler does. */
const run = (steps: [GuardMessage, string][], from: GuardState = INITIAL_STATE, rules = RULES) => {
  let s = from;
  return steps.map(([m, when]) => {
    const d = decideMessage(s, m, rules, at(when));
    s = d.enforce === "release" ? finishRelease(d.next) : d.next;
    return d;
  });
};

describe("local days (the daily hold ends at the next local midnight)", () => {
  test.each([
    ["a plain day", "2026-11-23T12:00:00Z", "UTC", "2026-11-24T00:00:00.000Z"],
    ["New York's 25-hour day (clocks back at 02:00 on 1 November)", "2026-11-01T04:30:00Z", ZONE, "2026-11-02T05:00:00.000Z"],
    ["New York's 23-hour day (clocks forward at 02:00 on 8 March)", "2026-03-08T05:30:00Z", ZONE, "2026-03-09T04:00:00.000Z"],
    ["London, the evening before the change", "2026-03-28T23:30:00Z", "Europe/London", "2026-03-29T00:00:00.000Z"],
    ["London, the day of the change (midnight is 23:00 UTC)", "2026-03-29T12:00:00Z", "Europe/London", "2026-03-29T23:00:00.000Z"],
    ["Santiago, whose clocks skip from 24:00 to 01:00 (the day begins at 01:00)", "2026-09-05T15:00:00Z", "America/Santiago", "2026-09-06T04:00:00.000Z"],
  ])("%s", (_, now, zone, midnight) => {
    const next = nextLocalMidnight(at(now), zone);
    expect(next.toISOString()).toBe(midnight);
    expect(localDate(next, zone) > localDate(at(now), zone)).toBe(true);
    expect(localDate(new Date(next.getTime() - 60_000), zone)).toBe(localDate(at(now), zone));
  });
});

describe("the daily hold", () => {
  test("an open incident holds the service until the next local midnight, whichever message comes then", () => {
    // 00:30 EDT on the 25-hour day: the hold lasts 24.5 hours, to 00:00 EST.
    const [trip, dup, early, midnight] = run([
      [incident(), "2026-11-01T04:30:00Z"],
      [incident(), "2026-11-01T04:31:00Z"],
      [TICK, "2026-11-02T04:30:00Z"],
      [TICK, "2026-11-02T05:00:10Z"],
    ]);
    expect(trip).toMatchObject({ enforce: "hold", tripped: "daily" });
    expect(trip.next.trips.daily).toEqual({
      budget: "daily",
      incidentId: "0.nqp7rsdkc4mv",
      policyName: "warmstart imagegen: daily spend limit",
      since: "2026-11-01T04:30:00.000Z",
      until: "2026-11-02T05:00:00.000Z",
      timeZone: ZONE,
      observedSeconds: 127_003.5,
      thresholdSeconds: 126_678.49,
    });
    expect(dup).toMatchObject({ enforce: "hold", next: trip.next, released: [] });
    // 23:30 EST on 1 November: 24 hours after the trip, the local day is not over yet.
    expect(early).toMatchObject({ enforce: "hold", next: trip.next });
    expect(midnight).toMatchObject({ enforce: "release", released: ["daily"], reason: expect.stringMatching(/a new local day began at 2026-11-02T05:00:00.000Z/) });
    expect(midnight.next).toEqual({ version: 2, periods: {}, trips: {}, dailyReleased: { incidentId: "0.nqp7rsdkc4mv", at: "2026-11-02T05:00:10.000Z" }, releasing: { budget: "daily", since: "2026-11-02T05:00:10.000Z" } });
  });

  test("the incident that tripped it does not trip again for 24 hours after the release; a new incident does", () => {
    const steps = run([
      [incident(), "2026-11-20T20:00:00Z"],
      [TICK, "2026-11-21T05:00:00Z"],
      // A late copy, and the reminders Monitoring repeats while the incident stays open.
      [incident(), "2026-11-21T05:02:00Z"],
      [incident(), "2026-11-22T04:59:00Z"],
      // A whole day after the release, still open: the last 24 hours alone are over the limit.
      [incident(), "2026-11-22T05:00:00Z"],
    ]);
    expect(steps.map((d) => d.enforce)).toEqual(["hold", "release", "none", "none", "hold"]);
    expect(steps[2].reason).toMatch(/tripped the guard before and was released at 2026-11-21T05:00:00.000Z/);
    expect(steps[4].next.trips.daily?.until).toBe("2026-11-23T05:00:00.000Z");
    const other = run([[incident("0.second"), "2026-11-21T06:00:00Z"]], steps[1].next);
    expect(other[0]).toMatchObject({ enforce: "hold", tripped: "daily" });
  });

  test("a closed incident, a test notification, a switched-off limit or an incident below the limit as deployed trip nothing", () => {
    const now = "2026-11-20T20:00:00Z";
    expect(run([[incident("0.a", { state: "closed" }), now]])[0]).toMatchObject({ enforce: "none", next: INITIAL_STATE });
    expect(run([[incident("0.a", { test: true }), now]])[0]).toMatchObject({ enforce: "none", reason: expect.stringMatching(/test notification/) });
    expect(run([[incident(), now]], INITIAL_STATE, { ...RULES, dailyThresholdSeconds: 0 })[0]).toMatchObject({ enforce: "none", reason: expect.stringMatching(/limit is off/) });
    expect(run([[incident(), now]], INITIAL_STATE, { ...RULES, dailyThresholdSeconds: 200_000 })[0]).toMatchObject({ enforce: "none", reason: expect.stringMatching(/below the daily spend limit as deployed now/) });
    // While held, a closed incident leaves the hold as it is.
    const [trip, closed] = run([[incident(), now], [incident(undefined, { state: "closed" }), "2026-11-20T21:00:00Z"]]);
    expect(closed).toMatchObject({ enforce: "hold", next: trip.next });
  });

  test("a limit raised above what the incident reported, or turned off, ends the hold at the next message", () => {
    const [trip] = run([[incident(), "2026-11-20T20:00:00Z"]]);
    expect(decideMessage(trip.next, TICK, { ...RULES, dailyThresholdSeconds: 150_000 }, at("2026-11-20T21:00:00Z"))).toMatchObject({ enforce: "release", reason: expect.stringMatching(/raised to 150000/) });
    expect(decideMessage(trip.next, budget(10), { ...RULES, dailyThresholdSeconds: 0 }, at("2026-11-20T21:00:00Z"))).toMatchObject({ enforce: "release", reason: expect.stringMatching(/turned off/) });
    expect(decideMessage(trip.next, TICK, { ...RULES, dailyThresholdSeconds: 127_000 }, at("2026-11-20T21:00:00Z")).enforce).toBe("hold");
  });
});

describe("the two holds together", () => {
  const NOV = "2026-11-01T04:00:00Z";
  const DEC = "2026-12-01T05:00:00Z";

  test("a monthly trip while a daily one holds: the next day's tick releases the daily, the monthly still holds", () => {
    const steps = run([
      [incident(), "2026-11-20T20:00:00Z"],
      [budget(612, NOV), "2026-11-20T22:00:00Z"],
      [TICK, "2026-11-21T05:00:00Z"],
      [budget(3, DEC), "2026-12-01T09:00:00Z"],
    ]);
    expect(steps.map((d) => [d.enforce, d.tripped, d.released])).toEqual([
      ["hold", "daily", []],
      ["hold", "monthly", []],
      ["hold", undefined, ["daily"]],
      ["release", undefined, ["monthly"]],
    ]);
    expect(steps[2].reason).toMatch(/still held by the monthly budget$/);
    expect(steps[2].next.trips).toEqual({ monthly: steps[1].next.trips.monthly });
  });

  test("a daily trip while the monthly one holds: a new budget period releases the monthly, the daily holds to midnight", () => {
    const steps = run([
      [budget(612, NOV), "2026-11-30T10:00:00Z"],
      [incident(), "2026-12-01T06:00:00Z"],
      [budget(3, DEC), "2026-12-01T09:00:00Z"],
      [budget(4, DEC), "2026-12-02T05:30:00Z"],
    ]);
    expect(steps.map((d) => [d.enforce, d.tripped, d.released])).toEqual([
      ["hold", "monthly", []],
      ["hold", "daily", []],
      ["hold", undefined, ["monthly"]],
      // The daily hold ended at 05:00Z (midnight EST); a budget notification after it releases as the tick would.
      ["release", undefined, ["daily"]],
    ]);
    expect(steps[2].next.trips).toEqual({ daily: steps[1].next.trips.daily });
  });

  test("guard:reset may release only when the guard would release both", () => {
    const [, both] = run([
      [incident(), "2026-11-20T20:00:00Z"],
      [budget(612, NOV), "2026-11-20T22:00:00Z"],
    ]);
    const deployed = { ratio: 1, monthlyBudget: 600, dailySpendLimit: 50, dailyThresholdSeconds: 126_678.49 };
    // Before midnight: both hold, both say how they end.
    const before = releasableNow(both.next, deployed, at("2026-11-20T23:00:00Z"));
    expect(before.release).toBe(false);
    expect(before.reason).toMatch(/Raise the budget to more than 612.*; and the daily spend limit holds since 2026-11-20T20:00:00.000Z \(incident 0.nqp7rsdkc4mv: 127003.5 billable instance-seconds in 24 h\) until the local day ends at 2026-11-21T05:00:00.000Z \(America\/New_York\); raise warmstart:dailySpendLimit to more than 50.13/);
    // After midnight, with the budget raised: both end.
    expect(releasableNow(both.next, { ...deployed, monthlyBudget: 700 }, at("2026-11-21T05:00:00Z")).release).toBe(true);
    // After midnight, the budget still over: refused, for the monthly alone.
    const after = releasableNow(both.next, deployed, at("2026-11-21T05:00:00Z"));
    expect(after).toMatchObject({ release: false });
    expect(after.reason).not.toMatch(/daily/);
  });
});

describe("the state file", () => {
  test("a version 1 state, as a guard deployed before the daily limit wrote it, reads as a monthly hold and is written back as version 2", () => {
    const v1 = {
      version: 1,
      periods: { monthly: "2026-11-01T04:00:00Z" },
      trip: { budget: "monthly", periodStart: "2026-11-01T04:00:00Z", since: "2026-11-20T10:00:00.000Z", costAmount: 612, budgetAmount: 600, currencyCode: "USD" },
    };
    const s = parseGuardState(JSON.stringify(v1));
    expect(s).toEqual({ version: 2, periods: v1.periods, trips: { monthly: v1.trip } });
    expect(held(s)).toBe(true);
    expect(parseGuardState(JSON.stringify({ version: 1, periods: {}, releasing: { budget: "monthly", since: "2026-12-01T09:00:00.000Z" } }))).toEqual({
      version: 2,
      periods: {},
      trips: {},
      releasing: { budget: "monthly", since: "2026-12-01T09:00:00.000Z" },
    });
    const [daily] = run([[incident(), "2026-11-20T20:00:00Z"]], s);
    expect(daily.next).toMatchObject({ version: 2, trips: { monthly: v1.trip, daily: { incidentId: "0.nqp7rsdkc4mv" } } });
    expect(parseGuardState(JSON.stringify(daily.next))).toEqual(daily.next);
  });
});

describe("any order of messages", () => {
  // Messages over three days: budget notifications over or under, incidents of three ids (open or closed), ticks.
  const START = Date.parse("2026-11-20T12:00:00Z");
  const message = fc.oneof(
    fc.record({ kind: fc.constant("budget" as const), cost: fc.integer({ min: 0, max: 900 }), period: fc.constantFrom("2026-11-01T04:00:00Z", "2026-12-01T05:00:00Z") }),
    fc.record({ kind: fc.constant("incident" as const), id: fc.constantFrom("0.a", "0.b", "0.c"), closed: fc.boolean() }),
    fc.constant({ kind: "tick" as const }),
  );
  type Raw = { kind: "budget"; cost: number; period: string } | { kind: "incident"; id: string; closed: boolean } | { kind: "tick" };
  const toMessage = (m: Raw): GuardMessage =>
    m.kind === "budget" ? budget(m.cost, m.period) : m.kind === "incident" ? incident(m.id, { state: m.closed ? "closed" : "open" }) : TICK;

  test("holds compose, one release never ends the other hold, a copy delivered at once changes nothing, a daily hold ends at a local midnight", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(message, fc.integer({ min: 0, max: 72 * 60 })), { minLength: 1, maxLength: 30 }), fc.array(fc.boolean(), { minLength: 30, maxLength: 30 }), (events, repeat) => {
        const sorted = [...events].sort((a, b) => a[1] - b[1]);
        let s = INITIAL_STATE;
        sorted.forEach(([raw, minute], i) => {
          const now = new Date(START + minute * 60_000);
          const m = toMessage(raw);
          const d = decideMessage(s, m, RULES, now);
          // What to enforce follows the holds.
          expect(d.enforce === "hold").toBe(held(d.next));
          // A budget notification never ends the daily hold before its midnight; a tick or an incident never touches the monthly.
          if (m.kind === "budget" && s.trips.daily && now.getTime() < Date.parse(s.trips.daily.until)) expect(d.next.trips.daily).toEqual(s.trips.daily);
          if (m.kind !== "budget") expect(d.next.trips.monthly).toEqual(s.trips.monthly);
          // A daily hold lasts until a local midnight, less than 25 hours after it began.
          const daily = d.next.trips.daily;
          if (daily) {
            expect(localDate(new Date(Date.parse(daily.until) - 60_000), ZONE) < localDate(new Date(daily.until), ZONE)).toBe(true);
            expect(Date.parse(daily.until) - Date.parse(daily.since)).toBeLessThanOrEqual(25 * 3_600_000);
          }
          // The same message delivered again at once: the same state, the same enforcement.
          if (repeat[i % repeat.length]) {
            const again = decideMessage(d.next, m, RULES, now);
            expect(again.next.trips).toEqual(d.next.trips);
            expect(again.enforce === "hold").toBe(d.enforce === "hold");
          }
          s = d.enforce === "release" ? finishRelease(d.next) : d.next;
        });
      }),
      { numRuns: 200 },
    );
  });
});
