import { describe, expect, test } from "vitest";
import { DEFAULT_PRICES, describeTraffic, monthlyCost, parsePriceOverrides } from "../../../components/budget/costModel";

const shape = { cpu: 8, memoryGiB: 32, gpuZonalRedundancy: false };

describe("monthly cost", () => {
  test("the total is warm + outside the windows + scheduler jobs + request-log bucket, each counted once", () => {
    const c = monthlyCost({ shape, warmInstanceHoursPerWeek: 10, offWindowInstanceHoursPerDay: 0.5, schedulerJobs: 13, prices: { ...DEFAULT_PRICES }, requestLog: { retentionDays: 90, requestsPerDay: 100_000 } });
    // 13 jobs, 3 free: $1.
    expect(c.scheduler).toBeCloseTo(1, 12);
    expect(c.requestLog).toBeGreaterThan(0);
    expect(c.total).toBeCloseTo(c.warm + c.offWindow + c.scheduler + c.requestLog, 12);
    expect(c.total - c.warm - c.offWindow).toBeCloseTo(1 + c.requestLog, 12);
  });
});

describe("warmstart:prices", () => {
  test("empty, blank or {} overrides nothing", () => {
    for (const text of ["", "  ", "{}", " {} \n"]) expect(parsePriceOverrides(text), JSON.stringify(text)).toEqual({});
  });

  test("anything but a JSON object of known, finite, non-negative numbers is refused with an example", () => {
    for (const text of ["{", "null", "1", '"x"', "[1]"]) expect(() => parsePriceOverrides(text), text).toThrow(/^must be a JSON object such as \{"l4PerSecond": 0\.0001867\}$/);
    expect(() => parsePriceOverrides('{"gpu": 1}')).toThrow(/^unknown price "gpu"; known: l4PerSecond, l4ZonalRedundantPerSecond, vcpuPerSecond, /);
    for (const v of ['"1"', "-0.1", "1e999", "null"]) expect(() => parsePriceOverrides(`{"vcpuPerSecond": ${v}}`), v).toThrow(/^price "vcpuPerSecond" must be a non-negative number$/);
    expect(parsePriceOverrides('{"vcpuPerSecond": 0}')).toEqual({ vcpuPerSecond: 0 });
  });
});

test("traffic assumptions round to cents of an instance-hour", () => {
  expect(describeTraffic({ source: "config", instanceHoursPerDay: 1.005 })).toMatch(/^1(\.01)? instance-hours a day assumed/);
  expect(describeTraffic({ source: "config", instanceHoursPerDay: 0.333333 })).toMatch(/^0\.33 instance-hours a day assumed/);
  expect(describeTraffic({ source: "log", instanceHoursPerDay: 2, file: "l.csv", requests: 10, days: 3.04 })).toBe(
    "2 instance-hours a day above the schedule, measured by replaying l.csv (10 requests over 3.0 days) with the planner's simulator",
  );
});
