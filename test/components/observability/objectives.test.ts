import { describe, expect, test } from "vitest";
import { coldStartObjectiveWarning, parseLatencyObjectives, scheduledStartsPer24h } from "../../../components/observability/objectives";
import { buildWarmSchedule, parseWarmWindows } from "../../../components/schedule/warmWindows";
import { parseConfig } from "../../support/stackConfig";

const levels = (windows: string, warmMinInstances = 1) =>
  buildWarmSchedule(parseWarmWindows(windows), "UTC", { warmMinInstances, idleMinInstances: 0, leadMinutes: 5 }).levels;

describe("latency objectives", () => {
  test("read as percentile and seconds, lowest percentile first, whichever order the object gives", () => {
    expect(parseLatencyObjectives('{"p99":25,"p50":5,"p90":10}')).toEqual([
      { percentile: 50, seconds: 5 },
      { percentile: 90, seconds: 10 },
      { percentile: 99, seconds: 25 },
    ]);
    expect(parseLatencyObjectives('{"p99.9":60,"p95":2.5}')).toEqual([
      { percentile: 95, seconds: 2.5 },
      { percentile: 99.9, seconds: 60 },
    ]);
  });

  test("{} (or nothing) sets none", () => {
    expect(parseLatencyObjectives("{}")).toEqual([]);
    expect(parseLatencyObjectives("")).toEqual([]);
  });

  test.each([
    ["[5,10]", /must be a JSON object of percentile to seconds/],
    ['{"p0":1}', /has "p0", which is not a percentile/],
    ['{"p99.99":1}', /has "p99\.99", which is not a percentile/],
    ['{"p90":0}', /has p90: 0; each objective is a number of seconds above 0/],
    ['{"p90":10,"p90.0":10}', /names p90 twice/],
  ])("%s is refused with a correct example", (text, message) => {
    expect(() => parseLatencyObjectives(text)).toThrow(message);
    expect(() => parseLatencyObjectives(text)).toThrow(/e\.g\. \{"p50":5,"p90":10,"p99":25\}/);
  });
});

describe("cold starts the warm schedule makes itself", () => {
  test.each([
    ["", 1, 0],
    ["weekdays 09:00-17:00", 1, 1],
    ["weekdays 09:00-12:00; weekdays 14:00-17:00", 1, 2],
    // A window that opens at 23:00 and one at 08:00 the next morning fall within one 24 h.
    ["mon 23:00-24:00; tue 08:00-09:00", 1, 2],
    ["daily 09:00-17:00 x2", 1, 2],
    ["daily 00:00-24:00", 1, 0],
  ])("%j (warm %i) starts at most %i instances in 24 h", (windows, warm, starts) => {
    expect(scheduledStartsPer24h(levels(windows, warm))).toBe(starts);
  });

  test("a warning names the key and the value that leaves room for the schedule", () => {
    expect(coldStartObjectiveWarning(5, 2)).toBeUndefined();
    expect(coldStartObjectiveWarning(0, 9)).toBeUndefined();
    expect(coldStartObjectiveWarning(2, 2)).toMatch(
      /^warmstart:coldStartsPerDayObjective is 2 \(fewer than 2 cold starts in 24 h\), but the warm windows alone start 2 instances in 24 h.*pulumi config set warmstart:coldStartsPerDayObjective 3\), or 0 for no objective$/,
    );
  });

  test("the stack warns when its own windows reach the objective", () => {
    const config = parseConfig({ "warmstart:warmWindows": "daily 08:00-10:00; daily 12:00-14:00", "warmstart:coldStartsPerDayObjective": "2" });
    expect(config.warnings).toContainEqual(expect.stringMatching(/warm windows alone start 2 instances in 24 h/));
  });
});
