import fc from "fast-check";
import { describe, expect, test } from "vitest";
import {
  buildWarmSchedule,
  localMinuteOfWeek,
  wallClock,
  desiredMinInstances,
  dstWarnings,
  levelAt,
  scheduleEdges,
  parseWarmWindows,
  type CompiledSchedule,
} from "../../../components/schedule/warmWindows";

const OPTS = { warmMinInstances: 1, idleMinInstances: 0, leadMinutes: 5 };
const schedule = (text: string, timeZone = "UTC", opts = OPTS) => buildWarmSchedule(parseWarmWindows(text), timeZone, opts);
const at = (iso: string) => new Date(iso);

describe("warmWindows grammar", () => {
  test.each([
    ["mon 25:00-26:00", /window "mon 25:00-26:00": time 25:00 is not a valid time/],
    ["mon 09:60-10:00", /time 09:60 is not a valid time/],
    ["mon 09:00-24:30", /time 24:30 is not a valid time; use 00:00-23:59 \(or 24:00 as an end\)/],
    ["funday 09:00-10:00", /unknown day "funday"; use mon tue wed thu fri sat sun, daily, weekdays or weekends/],
    ["mon 09:00 10:00", /with a "-" between start and end/],
    ["mon 09:00-10:00 x0", /count x0 must be at least x1 \(a window with no count keeps warmstart:warmMinInstances\)/],
    ["mon 09:00-10:00 x101", /count x101 must be at most x100 \(the largest warmstart:maxInstances\)/],
    ["mon 00:00-00:00", /starts and ends at 00:00, so it is empty; a whole day is written 00:00-24:00, e\.g\. "mon 00:00-24:00"/],
    ["mon,tue 09:00-10:00 x2, sat 10:00-14:00", /holds 2 windows; separate windows with ";".*e\.g\. "mon,tue 09:00-10:00 x2; sat 10:00-14:00"/],
    ["mon 09:00-10:00 xtwo", /count "xtwo" must be a whole number/],
    ["mon", /expected "<days> HH:MM-HH:MM \[xN\]"/],
    ["mon-  09:00-10:00", /day spec "mon-" must be a day or a range/],
    ["mon-tue-wed 09:00-10:00", /day spec "mon-tue-wed" must be a day or a range/],
    ["mon 09:00-10:00;;tue 09:00-10:00", /window 2 is empty \(stray ";"\?\)/],
    ["sat, sun 12:00-18:00", /days without spaces/],
  ])("%j is rejected: %s", (text, message) => {
    expect(() => parseWarmWindows(text)).toThrow(message);
  });

  test("a list holds one window per item", () => {
    expect(parseWarmWindows(["weekdays 09:00-21:00", " sat 10:00-12:00 x2 "])).toEqual(parseWarmWindows("weekdays 09:00-21:00; sat 10:00-12:00 x2"));
    expect(() => parseWarmWindows(["weekdays 09:00-21:00", ""])).toThrow(/item 2 of the list is empty/);
  });

  test("a count above the stack's maxInstances names warmstart:maxInstances", () => {
    expect(() => parseWarmWindows("sat 10:00-12:00 x3", { maxInstances: 2 })).toThrow(/count x3 is more than warmstart:maxInstances \(2\)/);
    expect(parseWarmWindows("sat 10:00-12:00 x2", { maxInstances: 2 })[0].count).toBe(2);
  });

  test("an empty string means never warm", () => {
    expect(parseWarmWindows("")).toEqual([]);
    expect(parseWarmWindows("  ;  ")).toEqual([]);
    expect(schedule("").jobs).toEqual([]);
  });

  test("is case-insensitive and tolerates extra spaces", () => {
    const [w] = parseWarmWindows("  WeekDays   09:00 - 21:00   X2 ");
    expect(w).toMatchObject({ days: [0, 1, 2, 3, 4], startMinute: 540, endMinute: 1260, count: 2 });
  });

  test("day ranges wrap around the week: fri-mon is fri, sat, sun, mon", () => {
    expect(parseWarmWindows("fri-mon 10:00-11:00")[0].days).toEqual([0, 4, 5, 6]);
  });

  test("24:00 ends a window at midnight", () => {
    const s = schedule("sun 18:00-24:00", "UTC", { ...OPTS, leadMinutes: 0 });
    expect(desiredMinInstances(s, at("2026-11-29T23:59:00Z"))).toBe(1);
    expect(desiredMinInstances(s, at("2026-11-30T00:00:00Z"))).toBe(0);
  });
});

describe("weekly schedule", () => {
  test("its edges alone give the same level as the full schedule at any instant, in any zone", () => {
    const windows = fc.constantFrom("", "weekdays 09:00-21:00; fri 18:00-23:30 x2", "sun 22:00-02:00", "daily 00:00-24:00", "mon 00:00-00:30 x3");
    const zones = fc.constantFrom("UTC", "America/Chicago", "Europe/London", "Asia/Kolkata", "Australia/Lord_Howe");
    fc.assert(
      fc.property(windows, zones, fc.integer({ min: Date.parse("2026-01-01"), max: Date.parse("2028-12-31") }), fc.integer({ min: 0, max: 2 }), (text, zone, t, idle) => {
        const s = schedule(text, zone, { warmMinInstances: 3, idleMinInstances: idle, leadMinutes: 5 });
        expect(levelAt(scheduleEdges(s), new Date(t))).toBe(desiredMinInstances(s, new Date(t)));
      }),
      { numRuns: 300 },
    );
    // Small enough to travel in an environment variable.
    expect(JSON.stringify(scheduleEdges(schedule("weekdays 09:00-21:00; sat,sun 12:00-18:00; fri 18:00-23:30 x2"))).length).toBeLessThan(1000);
  });

  test("weekdays 09:00-21:00 with a 5 minute lead compiles to exactly 2 jobs", () => {
    const s = schedule("weekdays 09:00-21:00");
    expect(s.jobs.map((j) => [j.name, j.cron, j.level])).toEqual([
      ["warm-weekdays-0855-to-1", "55 8 * * 1-5", 1],
      ["cool-weekdays-2100-to-0", "0 21 * * 1-5", 0],
    ]);
    expect(s.warmups.map((j) => j.cron)).toEqual(["0 9 * * 1-5"]);
  });

  test("an overnight window runs into the next day: fri 22:00-02:00 ends Saturday 02:00", () => {
    const s = schedule("fri 22:00-02:00");
    expect(desiredMinInstances(s, at("2026-11-27T21:55:00Z"))).toBe(1); // Friday, lead
    expect(desiredMinInstances(s, at("2026-11-28T01:59:00Z"))).toBe(1); // Saturday
    expect(desiredMinInstances(s, at("2026-11-28T02:00:00Z"))).toBe(0);
    expect(desiredMinInstances(s, at("2026-11-29T01:00:00Z"))).toBe(0); // Sunday: not warm all weekend
  });

  test("overlapping windows take the maximum, not the sum", () => {
    const s = schedule("daily 09:00-17:00 x2; weekdays 12:00-20:00 x3; mon 10:00-11:00");
    expect(desiredMinInstances(s, at("2026-11-23T10:30:00Z"))).toBe(2); // Monday: max(2, 1)
    expect(desiredMinInstances(s, at("2026-11-23T13:00:00Z"))).toBe(3);
    expect(desiredMinInstances(s, at("2026-11-23T18:00:00Z"))).toBe(3);
    expect(desiredMinInstances(s, at("2026-11-28T18:00:00Z"))).toBe(0); // Saturday
  });

  test("the lead raises instances before a window that opens at midnight, on the previous day", () => {
    const s = schedule("mon 00:00-06:00", "UTC", { ...OPTS, leadMinutes: 30 });
    expect(s.jobs.map((j) => j.cron)).toEqual(["0 6 * * 1", "30 23 * * 0"]);
  });

  test("the idle level is kept outside windows", () => {
    const s = schedule("weekdays 09:00-17:00 x3", "UTC", { ...OPTS, idleMinInstances: 1 });
    expect(desiredMinInstances(s, at("2026-11-28T12:00:00Z"))).toBe(1);
    expect(s.jobs.map((j) => j.level).sort()).toEqual([1, 3]);
  });

  test("edges of one level at several hours share one job", () => {
    const s = schedule("daily 09:00-10:00; daily 12:00-13:00", "UTC", { ...OPTS, leadMinutes: 0 });
    expect(s.jobs.map((j) => j.cron).sort()).toEqual(["0 10,13 * * *", "0 9,12 * * *"]);
  });

  test("no warmup job for a window that only continues one past midnight (issue #20)", () => {
    const split = schedule("fri 22:00-24:00; sat 00:00-02:00");
    expect(split.warmups.map((w) => w.name)).toEqual(["warmup-fri-2200"]);
    expect(schedule("fri 22:00-02:00").jobs.map((j) => j.cron)).toEqual(split.jobs.map((j) => j.cron));
    // A window that raises the level (x2 over x1) still opens.
    expect(schedule("mon 09:00-17:00; mon 12:00-13:00 x2").warmups.flatMap((w) => w.hours)).toEqual([9, 12]);
  });

  test("the windows are read on the zone's wall clock, across DST", () => {
    const s = schedule("weekdays 09:00-17:00", "Europe/London", { ...OPTS, leadMinutes: 0 });
    expect(desiredMinInstances(s, at("2027-01-11T09:30:00Z"))).toBe(1); // GMT
    expect(desiredMinInstances(s, at("2027-07-12T08:30:00Z"))).toBe(1); // BST: 09:30 local
    expect(desiredMinInstances(s, at("2027-07-12T16:30:00Z"))).toBe(0); // BST: 17:30 local
  });
});

describe("DST warnings", () => {
  const from = at("2026-11-23T00:00:00Z");

  test("an edge in the skipped spring hour is named with its date", () => {
    const s = schedule("sun 02:30-04:00", "America/Chicago", { ...OPTS, leadMinutes: 0 });
    const warnings = dstWarnings(s.jobs, "America/Chicago", from);
    expect(warnings.map((w) => [w.job, w.date, w.time, w.kind])).toEqual([["warm-sun-0230-to-1", "2027-03-14", "02:30", "skipped"]]);
    expect(warnings[0].message).toMatch(/does not exist, so the job will not run that day/);
  });

  test("an edge in the repeated autumn hour is named", () => {
    const s = schedule("sun 01:30-04:00", "Europe/London", { ...OPTS, leadMinutes: 0 });
    const warnings = dstWarnings(s.jobs, "Europe/London", from);
    expect(warnings.map((w) => [w.date, w.time, w.kind])).toEqual([
      ["2027-03-28", "01:30", "skipped"],
      ["2027-10-31", "01:30", "repeated"],
    ]);
  });

  test("Lord Howe's half-hour shift is caught to the minute", () => {
    // Clocks go back 02:00 -> 01:30 in April and forward 02:00 -> 02:30 in October.
    const s = schedule("sun 01:45-02:15", "Australia/Lord_Howe", { ...OPTS, leadMinutes: 0 });
    expect(dstWarnings(s.jobs, "Australia/Lord_Howe", from).map((w) => [w.date, w.time, w.kind])).toEqual([
      ["2027-04-04", "01:45", "repeated"],
      ["2027-10-03", "02:15", "skipped"],
    ]);
  });

  test("zones without DST and edges away from transitions give none", () => {
    expect(dstWarnings(schedule("daily 02:30-03:00", "Asia/Kolkata").jobs, "Asia/Kolkata", from)).toEqual([]);
    expect(dstWarnings(schedule("weekdays 09:00-21:00", "America/Chicago").jobs, "America/Chicago", from)).toEqual([]);
  });
});

// ---- Property test: replaying the compiled jobs with an independent cron evaluator leaves desiredMinInstances(t). ----

/** Parses one cron field (lists, ranges, *) into the set of values it matches. */
function cronField(field: string, min: number, max: number): Set<number> {
  const out = new Set<number>();
  for (const part of field.split(",")) {
    if (part === "*") for (let v = min; v <= max; v++) out.add(v);
    else if (part.includes("-")) {
      const [a, b] = part.split("-").map(Number);
      for (let v = a; v <= b; v++) out.add(v);
    } else out.add(Number(part));
  }
  return out;
}

interface ParsedCron {
  minutes: Set<number>;
  hours: Set<number>;
  dows: Set<number>;
  level: number;
}

/** Wall clock in a zone via toLocaleString, independently of the module's own conversion. */
function localNaive(t: Date, timeZone: string): Date {
  const s = t.toLocaleString("sv-SE", { timeZone, hourCycle: "h23" });
  return new Date(s.replace(" ", "T") + "Z");
}

/** The level set by the last job that fired at or before t, reading wall-clock time in the zone. */
function replay(s: CompiledSchedule, t: Date): number {
  if (s.jobs.length === 0) return s.levels[0];
  const crons: ParsedCron[] = s.jobs.map((j) => {
    const [m, h, , , dow] = j.cron.split(" ");
    return { minutes: cronField(m, 0, 59), hours: cronField(h, 0, 23), dows: cronField(dow, 0, 6), level: j.level };
  });
  const local = localNaive(t, s.timeZone).getTime();
  for (let back = 0; back <= 7 * 24 * 60; back++) {
    const d = new Date(local - back * 60_000);
    const hit = crons.find((c) => c.minutes.has(d.getUTCMinutes()) && c.hours.has(d.getUTCHours()) && c.dows.has(d.getUTCDay()));
    if (hit) return hit.level;
  }
  throw new Error("no job fired in a week");
}

const ZONES = ["UTC", "America/Chicago", "Europe/London", "Australia/Lord_Howe", "Asia/Kolkata", "America/Santiago", "Pacific/Chatham"];
const DAY_SPECS = ["daily", "weekdays", "weekends", "mon", "tue", "sat", "sun", "fri-mon", "sat,sun", "mon,wed,fri", "tue-thu", "sun-tue"];
const time = fc.tuple(fc.integer({ min: 0, max: 23 }), fc.constantFrom(0, 15, 30, 45, 5, 55)).map(([h, m]) => `${String(h).padStart(2, "0")}:${String(m).padStart(2, "0")}`);
const windowText = fc
  .tuple(fc.constantFrom(...DAY_SPECS), time, fc.oneof(time, fc.constant("24:00")), fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }))
  .filter(([, start, end]) => start !== end)
  .map(([days, start, end, count]) => `${days} ${start}-${end}${count ? ` x${count}` : ""}`);
const YEAR_START = Date.parse("2026-11-23T00:00:00Z");
const YEAR_MS = 365 * 24 * 3_600_000;

describe("compiled jobs replayed in their zone", () => {
  test("leave exactly desiredMinInstances(t) in force, outside DST-warned dates", () => {
    fc.assert(
      fc.property(
        fc.array(windowText, { minLength: 1, maxLength: 3 }),
        fc.constantFrom(...ZONES),
        fc.integer({ min: 0, max: 120 }),
        fc.integer({ min: 0, max: 1 }),
        fc.array(fc.integer({ min: 0, max: YEAR_MS }), { minLength: 4, maxLength: 4 }),
        (windows, zone, lead, idle, offsets) => {
          const s = schedule(windows.join("; "), zone, { warmMinInstances: 1, idleMinInstances: idle, leadMinutes: lead });
          const warned = dstWarnings(s.jobs, zone, new Date(YEAR_START)).map((w) => Date.parse(`${w.date}T00:00:00Z`));
          for (const offset of offsets) {
            const t = new Date(YEAR_START + offset);
            // A job skipped or doubled by DST in the last week may leave another level in force: warned, so skipped.
            if (warned.some((d) => d <= t.getTime() + 86_400_000 && d >= t.getTime() - 8 * 86_400_000)) continue;
            expect(replay(s, t), `${windows.join("; ")} in ${zone} at ${t.toISOString()}`).toBe(desiredMinInstances(s, t));
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});

test("the cached local minute of the week agrees with the zone's wall clock at every instant, DST included", () => {
  fc.assert(
    fc.property(fc.constantFrom(...ZONES), fc.integer({ min: 0, max: YEAR_MS }), (zone, offset) => {
      const at = new Date(YEAR_START + offset);
      const w = wallClock(at, zone);
      expect(localMinuteOfWeek(at, zone)).toBe(w.weekday * 1440 + w.hour * 60 + w.minute);
    }),
    { numRuns: 3000 },
  );
  // The minutes around a transition, where a cached hourly offset would be wrong.
  for (let t = Date.parse("2027-04-03T15:00:00Z"); t < Date.parse("2027-04-03T16:30:00Z"); t += 60_000) {
    const w = wallClock(new Date(t), "Australia/Lord_Howe");
    expect(localMinuteOfWeek(new Date(t), "Australia/Lord_Howe")).toBe(w.weekday * 1440 + w.hour * 60 + w.minute);
  }
});
