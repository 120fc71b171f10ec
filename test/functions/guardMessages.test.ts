/**
 * What the budget guard accepts from its topic and its environment (functions/guardHandler.ts): budget notifications,
 * Monitoring incidents and the midnight tick told apart by shape, anything else ignored; and an environment that is
 * wrong refused at start, naming the variable.
 */
import { describe, expect, test } from "vitest";
import { configFromEnv, parseIncident, parseMessage, parseNotification } from "../../functions/guardHandler";
import { GUARD_TICK } from "../../functions/guardContract";
import { localDate, nextLocalMidnight } from "../../functions/localDay";
import { buildWarmSchedule, parseWarmWindows, scheduleEdges } from "../../components/schedule/warmWindows";

const NOTIFICATION = { budgetDisplayName: "imagegen monthly (warmstart)", costAmount: 612.5, budgetAmount: 600, costIntervalStart: "2026-11-01T07:00:00Z", currencyCode: "USD" };
const INCIDENT = {
  incident: { incident_id: "0.daily", state: "OPEN", policy_name: "imagegen daily spend", condition_name: "24 h", started_at: 1795000000, observed_value: "126701.3", threshold_value: 126678.49 },
  version: "1.2",
};

describe("budget notifications", () => {
  test("need numbers for cost and budget and a date for the period", () => {
    expect(parseNotification(NOTIFICATION)).toEqual(NOTIFICATION);
    for (const bad of [null, 5, "x", { ...NOTIFICATION, costAmount: "612.5" }, { ...NOTIFICATION, budgetAmount: undefined }, { ...NOTIFICATION, costIntervalStart: 1 }, { ...NOTIFICATION, costIntervalStart: "last month" }]) {
      expect(parseNotification(bad), JSON.stringify(bad)).toBeUndefined();
    }
  });
});

describe("Monitoring incidents (schema 1.2)", () => {
  test("are read with their numbers, which Monitoring may write as strings; the state in any case", () => {
    expect(parseIncident(INCIDENT)).toEqual({
      incidentId: "0.daily",
      state: "open",
      policyName: "imagegen daily spend",
      conditionName: "24 h",
      startedAt: 1795000000,
      observedValue: 126701.3,
      thresholdValue: 126678.49,
      test: false,
    });
    expect(parseIncident({ ...INCIDENT, version: "test" })!.test).toBe(true);
    expect(parseIncident({ ...INCIDENT, incident: { ...INCIDENT.incident, state: "closed" } })!.state).toBe("closed");
  });

  test("fields that are empty or not numbers are left out, not guessed", () => {
    const i = parseIncident({ version: "1.2", incident: { incident_id: "7", state: "open", policy_name: "", observed_value: " ", threshold_value: "n/a", started_at: null } });
    expect(i).toEqual({ incidentId: "7", state: "open", test: false });
  });

  test("without a version, an incident object, an id or an open or closed state, it is not one", () => {
    for (const bad of [null, "x", { incident: INCIDENT.incident }, { version: 1.2, incident: INCIDENT.incident }, { version: "1.2" }, { version: "1.2", incident: "open" }, { ...INCIDENT, incident: { ...INCIDENT.incident, incident_id: "" } }, { ...INCIDENT, incident: { ...INCIDENT.incident, state: "acknowledged" } }, { ...INCIDENT, incident: { ...INCIDENT.incident, state: 1 } }]) {
      expect(parseIncident(bad), JSON.stringify(bad)).toBeUndefined();
    }
  });
});

test("a message is a tick, a budget notification or an incident by its shape; anything else is none", () => {
  expect(parseMessage(GUARD_TICK)).toEqual({ kind: "tick" });
  expect(parseMessage({ warmstart: "tick" })).toBeUndefined();
  expect(parseMessage(NOTIFICATION)).toEqual({ kind: "budget", notification: NOTIFICATION });
  expect(parseMessage(INCIDENT)?.kind).toBe("incident");
  for (const bad of [null, [NOTIFICATION], "tick", { hello: 1 }]) expect(parseMessage(bad), JSON.stringify(bad)).toBeUndefined();
});

describe("the guard's environment", () => {
  const schedule = scheduleEdges(buildWarmSchedule(parseWarmWindows("weekdays 09:00-21:00"), "UTC", { warmMinInstances: 1, idleMinInstances: 0, leadMinutes: 5 }));
  const ENV = {
    GUARD_SERVICE: "projects/p/locations/us-central1/services/imagegen",
    GUARD_JOBS: "projects/p/locations/us-central1/jobs/a,projects/p/locations/us-central1/jobs/b",
    GUARD_STATE: "gs://p-imagegen-guard/guard-state.json",
    GUARD_SCHEDULE: JSON.stringify(schedule),
  };

  test("defaults: ratio 1, no cap, no daily limit", () => {
    expect(configFromEnv(ENV)).toMatchObject({ ratio: 1, maxInstances: 0, dailyThresholdSeconds: 0, dailySpendLimit: 0, jobs: ENV.GUARD_JOBS.split(","), service: ENV.GUARD_SERVICE });
    expect(configFromEnv({ ...ENV, GUARD_RATIO: "0.95", GUARD_DAILY_THRESHOLD: "126678.49", GUARD_DAILY_LIMIT: "60" })).toMatchObject({ ratio: 0.95, dailyThresholdSeconds: 126678.49, dailySpendLimit: 60 });
  });

  test("a ratio that is not above 0, or a daily figure below 0 or not a number, stops the guard naming the variable", () => {
    for (const r of ["0", "-1", "x"]) expect(() => configFromEnv({ ...ENV, GUARD_RATIO: r }), r).toThrow(`GUARD_RATIO must be a positive number, got "${r}"`);
    expect(() => configFromEnv({ ...ENV, GUARD_DAILY_THRESHOLD: "-1" })).toThrow('GUARD_DAILY_THRESHOLD must be a number 0 or above, got "-1"');
    expect(() => configFromEnv({ ...ENV, GUARD_DAILY_LIMIT: "lots" })).toThrow('GUARD_DAILY_LIMIT must be a number 0 or above, got "lots"');
    expect(() => configFromEnv({ ...ENV, GUARD_DAILY_LIMIT: "Infinity" })).toThrow(/GUARD_DAILY_LIMIT must be a number 0 or above/);
  });
});

describe("the guard's local day", () => {
  test("dates are written with two-digit months and days, in the zone", () => {
    expect(localDate(new Date("2026-03-05T12:00:00Z"), "UTC")).toBe("2026-03-05");
    expect(localDate(new Date("2026-03-05T23:30:00Z"), "Asia/Kolkata")).toBe("2026-03-06");
  });

  test("the next local midnight is exact to the minute, across a DST change too", () => {
    expect(nextLocalMidnight(new Date("2026-12-01T12:00:00Z"), "UTC").toISOString()).toBe("2026-12-02T00:00:00.000Z");
    expect(nextLocalMidnight(new Date("2026-12-01T23:59:00Z"), "UTC").toISOString()).toBe("2026-12-02T00:00:00.000Z");
    // New York leaves DST on 2026-11-01: that day's midnight after is 05:00 UTC, not 04:00.
    expect(nextLocalMidnight(new Date("2026-11-01T12:00:00Z"), "America/New_York").toISOString()).toBe("2026-11-02T05:00:00.000Z");
  });
});
