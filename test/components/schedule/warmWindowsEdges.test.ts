import { afterEach, describe, expect, test, vi } from "vitest";
import {
  buildWarmSchedule,
  dstWarnings,
  edgesByDay,
  formatMinuteOfDay,
  isValidTimeZone,
  levelAt,
  localMinuteOfWeek,
  maxInstanceHoursIn24h,
  offsetTransitions,
  parseWarmWindows,
  scheduleEdges,
  wallClock,
  warmInstanceHoursPerWeek,
} from "../../../components/schedule/warmWindows";

const OPTS = { warmMinInstances: 1, idleMinInstances: 0, leadMinutes: 0 };
const schedule = (text: string, opts = OPTS, timeZone = "UTC") => buildWarmSchedule(parseWarmWindows(text), timeZone, opts);
const jobs = (text: string, opts = OPTS) => schedule(text, opts).jobs.map((j) => [j.name, j.cron]);
/** The whole message of the error parseWarmWindows throws. */
const refusal = (input: string | string[], limits = {}) => {
  try {
    parseWarmWindows(input, limits);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error(`${JSON.stringify(input)} was accepted`);
};

afterEach(() => {
  vi.restoreAllMocks();
});

describe("warmWindows grammar, at its edges", () => {
  test("a start may be 00:00 to 23:59, an end 00:01 to 24:00; an hour may have one digit", () => {
    expect(parseWarmWindows("mon 23:59-24:00")[0]).toMatchObject({ startMinute: 1439, endMinute: 1440 });
    expect(parseWarmWindows("mon 00:00-23:59")[0]).toMatchObject({ startMinute: 0, endMinute: 1439 });
    expect(parseWarmWindows("mon 9:05-17:30")[0]).toMatchObject({ startMinute: 545, endMinute: 1050 });
    expect(refusal("mon 24:00-02:00")).toBe('window "mon 24:00-02:00": time 24:00 is not a valid time; use 00:00-23:59');
    expect(refusal("mon 09:00-24:01")).toBe('window "mon 09:00-24:01": time 24:01 is not a valid time; use 00:00-23:59 (or 24:00 as an end)');
    expect(refusal("mon 23:60-24:00")).toMatch(/time 23:60 is not a valid time/);
  });

  test("a count runs from x1 to x100, or to the stack's maxInstances, whose message shows the fixed window and the command", () => {
    expect(parseWarmWindows("mon 09:00-10:00 x1")[0].count).toBe(1);
    expect(parseWarmWindows("mon 09:00-10:00 x100")[0].count).toBe(100);
    expect(parseWarmWindows("mon 09:00-10:00")[0].count).toBeUndefined();
    expect(refusal("sat 10:00-12:00 x3", { maxInstances: 2 })).toBe(
      'window "sat 10:00-12:00 x3": count x3 is more than warmstart:maxInstances (2); lower the count, e.g. "sat 10:00-12:00 x2", or raise warmstart:maxInstances to 3 (pulumi config set warmstart:maxInstances 3)',
    );
    expect(refusal("sat 10:00-12:00 x 7", { maxInstances: 5 })).toMatch(/e\.g\. "sat 10:00-12:00 x5", or raise warmstart:maxInstances to 7 /);
  });

  test("each refusal names the window and shows a correct one", () => {
    expect(refusal("mon 09:00-10:00;;tue 09:00-10:00")).toBe('window 2 is empty (stray ";"?); windows are separated by ";", e.g. "weekdays 09:00-21:00; sat,sun 12:00-18:00 x2"');
    expect(refusal("mon")).toBe('window "mon": expected "<days> HH:MM-HH:MM [xN]", e.g. "weekdays 09:00-21:00; sat,sun 12:00-18:00 x2"');
    expect(refusal("mon 09:00 10:00")).toBe('window "mon 09:00 10:00": expected "HH:MM-HH:MM" with a "-" between start and end, e.g. "weekdays 09:00-21:00"');
    // A count without its x, or words after the window, is not read as something else.
    for (const text of ["mon 09:00-10:00 2", "mon 09:00-10:00 x2 please", "every mon 09:00-10:00"]) {
      expect(refusal(text)).toBe(`window "${text}": expected "<days> HH:MM-HH:MM [xN]": days without spaces (e.g. "sat,sun"), then the times, then an optional count, e.g. "sat,sun 12:00-18:00 x2"`);
    }
    expect(refusal("weekdays 09:00-17:00,sat 10:00-14:00")).toBe(
      'window "weekdays 09:00-17:00,sat 10:00-14:00": holds 2 windows; separate windows with ";" (a comma joins days within one window), e.g. "weekdays 09:00-17:00; sat 10:00-14:00"',
    );
    expect(refusal("mon 09:00-10:00 x2.5")).toBe('window "mon 09:00-10:00 x2.5": count "x2.5" must be a whole number, e.g. "x2"');
    expect(refusal("mon 09:00-10:00 x0")).toBe(
      'window "mon 09:00-10:00 x0": count x0 must be at least x1 (a window with no count keeps warmstart:warmMinInstances); outside every window the service drops to warmstart:idleMinInstances',
    );
    expect(refusal("mon-fri-sun 09:00-10:00")).toBe('window "mon-fri-sun 09:00-10:00": day spec "mon-fri-sun" must be a day or a range like "mon-fri"');
    expect(refusal("mon,,tue 09:00-10:00")).toMatch(/day spec "" must be a day or a range like "mon-fri"$/);
  });

  test("in a list, an item with several windows is refused with the list form", () => {
    expect(refusal(["weekdays 09:00-17:00; sat 10:00-14:00"])).toBe(
      'item 1 of the list ("weekdays 09:00-17:00; sat 10:00-14:00") holds several windows: in a list, put one window per item (- "weekdays 09:00-17:00" then - "sat 10:00-14:00")',
    );
    expect(refusal(["mon 09:00-10:00", "  "])).toBe('item 2 of the list is empty; each item is one window, e.g. "weekdays 09:00-21:00"');
    expect(parseWarmWindows([])).toEqual([]);
  });

  test("days: lists and ranges in any order, each day once, Monday first; the window keeps its text", () => {
    expect(parseWarmWindows("fri,mon,wed,mon 09:00-10:00")[0].days).toEqual([0, 2, 4]);
    expect(parseWarmWindows("tue-thu,sun 09:00-10:00")[0].days).toEqual([1, 2, 3, 6]);
    expect(parseWarmWindows("sat-sat 09:00-10:00")[0].days).toEqual([5]);
    expect(parseWarmWindows("weekends 09:00-10:00")[0].days).toEqual([5, 6]);
    expect(parseWarmWindows("  Sat,Sun   09:00 -  10:00 X2 ")[0].text).toBe("Sat,Sun 09:00 - 10:00 X2");
  });

  test("windows joined by commas: the suggested fix puts a \";\" after each window's end or count, spaces and all", () => {
    expect(refusal("weekdays 09:00 - 17:00, sat 10:00 - 14:00")).toBe(
      'window "weekdays 09:00 - 17:00, sat 10:00 - 14:00": holds 2 windows; separate windows with ";" (a comma joins days within one window), e.g. "weekdays 09:00 - 17:00; sat 10:00 - 14:00"',
    );
    expect(refusal("mon 09:00-10:00 x12 , tue 10:00-11:00x3,wed 10:00-11:00 x 2,thu 10:00-11:00")).toMatch(
      /holds 4 windows; .* e\.g\. "mon 09:00-10:00 x12; tue 10:00-11:00x3; wed 10:00-11:00 x 2; thu 10:00-11:00"$/,
    );
  });

  test("the suggested lower count replaces the whole count, two digits and all", () => {
    expect(refusal("sat 10:00-12:00 x12", { maxInstances: 10 })).toMatch(/lower the count, e\.g\. "sat 10:00-12:00 x10", or raise warmstart:maxInstances to 12 /);
  });

  test("a list item's spaces collapse as in the string form", () => {
    expect(parseWarmWindows(["  sat   10:00-12:00  x2 "])[0].text).toBe("sat 10:00-12:00 x2");
  });
});

describe("compiled jobs: names and cron fields", () => {
  test("days in cron count Sunday as 0, runs of three or more read as a range, two as a list", () => {
    expect(jobs("sun 10:00-11:00")).toEqual([
      ["warm-sun-1000-to-1", "0 10 * * 0"],
      ["cool-sun-1100-to-0", "0 11 * * 0"],
    ]);
    expect(jobs("mon,tue 10:00-11:00").map(([, cron]) => cron)).toEqual(["0 10 * * 1,2", "0 11 * * 1,2"]);
    expect(jobs("mon-wed,fri 10:00-11:00").map(([, cron]) => cron)).toEqual(["0 10 * * 1-3,5", "0 11 * * 1-3,5"]);
    expect(jobs("weekends 10:00-11:00").map(([, cron]) => cron)).toEqual(["0 10 * * 0,6", "0 11 * * 0,6"]);
    expect(jobs("daily 10:00-11:00").map(([, cron]) => cron)).toEqual(["0 10 * * *", "0 11 * * *"]);
  });

  test("a job's name says its days: a group name, a range of three or more, else a list joined by _", () => {
    const names = (days: string) => jobs(`${days} 10:00-11:00`).map(([name]) => name);
    expect(names("mon,tue")).toEqual(["warm-mon_tue-1000-to-1", "cool-mon_tue-1100-to-0"]);
    expect(names("tue-thu")).toEqual(["warm-tue-thu-1000-to-1", "cool-tue-thu-1100-to-0"]);
    expect(names("mon,wed,fri")).toEqual(["warm-mon_wed_fri-1000-to-1", "cool-mon_wed_fri-1100-to-0"]);
    expect(names("sat,sun")).toEqual(["warm-weekends-1000-to-1", "cool-weekends-1100-to-0"]);
    expect(names("mon-sun")).toEqual(["warm-daily-1000-to-1", "cool-daily-1100-to-0"]);
  });

  test("one job sets a level at several hours or minutes: hours and minutes listed, runs of three as a range", () => {
    expect(jobs("daily 09:00-09:10; daily 09:30-09:40")).toEqual([
      ["warm-daily-09h00-30m-to-1", "0,30 9 * * *"],
      ["cool-daily-09h10-40m-to-0", "10,40 9 * * *"],
    ]);
    expect(jobs("daily 08:00-08:30; daily 09:00-09:30; daily 10:00-10:30; daily 12:00-12:30")).toEqual([
      ["warm-daily-08-09-10-12h00m-to-1", "0 8-10,12 * * *"],
      ["cool-daily-08-09-10-12h30m-to-0", "30 8-10,12 * * *"],
    ]);
  });

  test("jobs are listed by their first firing in the week, Monday 00:00 first, each level with its own job", () => {
    const s = schedule("tue 08:00-09:00 x2; mon 10:00-12:00; mon 11:00-11:30 x3", { ...OPTS, idleMinInstances: 1 });
    expect(s.jobs.map((j) => [j.name, j.cron, j.level])).toEqual([
      ["warm-mon-1100-to-3", "0 11 * * 1", 3],
      ["cool-mon-1130-to-1", "30 11 * * 1", 1],
      ["warm-tue-0800-to-2", "0 8 * * 2", 2],
      ["cool-tue-0900-to-1", "0 9 * * 2", 1],
    ]);
    // Monday 10:00 leaves the level at 1, the idle level: no job.
    expect(s.warmups.map((w) => [w.name, w.cron])).toEqual([
      ["warmup-mon-1100", "0 11 * * 1"],
      ["warmup-tue-0800", "0 8 * * 2"],
    ]);
  });

  test("a level above idle warms, back to idle cools; the warmup fires at the window's start, not its lead", () => {
    const s = schedule("wed 09:00-10:00 x2", { warmMinInstances: 1, idleMinInstances: 1, leadMinutes: 10 });
    expect(s.jobs.map((j) => j.name)).toEqual(["warm-wed-0850-to-2", "cool-wed-1000-to-1"]);
    expect(s.warmups.map((w) => w.cron)).toEqual(["0 9 * * 3"]);
    expect(s.idleMinInstances).toBe(1);
    expect(s.timeZone).toBe("UTC");
  });

  test("hours 1,2,3 at one minute and 1,23 at another stay two jobs, each firing at its own times", () => {
    const s = schedule("daily 01:00-01:10; daily 02:00-02:10; daily 03:00-03:10; daily 01:30-01:40; daily 23:30-23:40");
    expect(s.jobs.map((j) => [j.cron, j.level])).toEqual([
      ["0 1-3 * * *", 1],
      ["10 1-3 * * *", 0],
      ["30 1,23 * * *", 1],
      ["40 1,23 * * *", 0],
    ]);
  });

  test("warmups come out in the order of the week, days, hours and minutes ascending, whatever order the windows are written in", () => {
    const s = schedule("sun 12:00-13:00; daily 09:30-09:40 x2; sat 12:00-13:00; daily 09:00-09:20 x2; wed 12:00-13:00; tue 07:00-08:00");
    expect(s.warmups.map((w) => [w.name, w.cron])).toEqual([
      ["warmup-daily-09h00-30m", "0,30 9 * * *"],
      ["warmup-tue-0700", "0 7 * * 2"],
      ["warmup-wed_sat_sun-1200", "0 12 * * 0,3,6"],
    ]);
    expect(schedule("daily 12:00-12:30; daily 09:00-09:30").warmups.map((w) => w.cron)).toEqual(["0 9,12 * * *"]);
  });
});

describe("what a schedule keeps warm", () => {
  test("instance-hours a week: each window's hours times its count, the lead included", () => {
    expect(warmInstanceHoursPerWeek(schedule("weekdays 09:00-17:00 x2").levels)).toBe(80);
    expect(warmInstanceHoursPerWeek(schedule("weekdays 09:00-17:00", { ...OPTS, leadMinutes: 30 }).levels)).toBe(42.5);
    expect(warmInstanceHoursPerWeek(schedule("").levels)).toBe(0);
  });

  test("the most instance-hours in any 24 hours, over the week's end too", () => {
    expect(maxInstanceHoursIn24h(schedule("sun 20:00-24:00; mon 00:00-04:00").levels)).toBe(8);
    expect(maxInstanceHoursIn24h(schedule("mon 00:00-04:00; sun 22:00-24:00 x2").levels)).toBe(8);
    expect(maxInstanceHoursIn24h(schedule("weekdays 09:00-17:00 x3").levels)).toBe(24);
    expect(maxInstanceHoursIn24h(schedule("daily 00:00-24:00").levels)).toBe(24);
    expect(maxInstanceHoursIn24h(schedule("wed 20:00-24:00; thu 00:00-06:00 x2").levels)).toBe(16);
  });

  test("per day, the level at midnight and each change that day, as synth and the dashboard show them", () => {
    const days = edgesByDay(schedule("mon 09:00-17:30; tue 22:00-02:00 x2").levels);
    expect(days).toEqual([
      { atMidnight: 0, changes: [{ time: "09:00", level: 1 }, { time: "17:30", level: 0 }] },
      { atMidnight: 0, changes: [{ time: "22:00", level: 2 }] },
      { atMidnight: 2, changes: [{ time: "02:00", level: 0 }] },
      { atMidnight: 0, changes: [] },
      { atMidnight: 0, changes: [] },
      { atMidnight: 0, changes: [] },
      { atMidnight: 0, changes: [] },
    ]);
    expect(edgesByDay(schedule("daily 00:00-24:00").levels).map((d) => [d.atMidnight, d.changes.length])).toEqual(Array(7).fill([1, 0]));
  });

  test("a minute of the day reads HH:MM, and the end of the day 24:00", () => {
    expect([0, 5, 545, 1439, 1440].map(formatMinuteOfDay)).toEqual(["00:00", "00:05", "09:05", "23:59", "24:00"]);
  });

  test("a zone is known when this Node.js's time zone data has it", () => {
    expect(isValidTimeZone("Europe/Berlin")).toBe(true);
    expect(isValidTimeZone("Mars/Olympus_Mons")).toBe(false);
  });

  test("the level changes at an edge's own minute, in the full schedule and in its edges alone", () => {
    const s = schedule("weekdays 09:00-21:00", { ...OPTS, leadMinutes: 5 });
    const edges = scheduleEdges(s);
    // Monday 2026-11-23 (UTC): warm from 08:55, cold from 21:00.
    const at = (hhmm: string) => levelAt(edges, new Date(`2026-11-23T${hhmm}:00Z`));
    expect(["08:54", "08:55", "20:59", "21:00"].map(at)).toEqual([0, 1, 1, 0]);
  });

  test("the local minute of the week follows a change inside a UTC hour, and asks the zone twice an hour, every minute only in that hour", () => {
    // Adelaide goes back from UTC+10:30 to +9:30 at 16:30 UTC on 2026-04-04.
    const minutes = [...Array(60).keys()].flatMap((i) => [Date.parse("2026-04-04T10:00:00Z") + i * 60_000, Date.parse("2026-04-04T16:00:00Z") + i * 60_000]);
    const wall = minutes.map((t) => wallClock(new Date(t), "Australia/Adelaide")).map((w) => w.weekday * 1440 + w.hour * 60 + w.minute);
    const asks = vi.spyOn(Intl.DateTimeFormat.prototype, "formatToParts");
    expect(minutes.map((t) => localMinuteOfWeek(new Date(t), "Australia/Adelaide"))).toEqual(wall);
    expect(asks).toHaveBeenCalledTimes(2 + 2 + 60);
  });
});

describe("the zone's offset changes", () => {
  test("are found to the minute over the look-ahead, the last hour included, and none from an hour that already changed", () => {
    const berlin = (from: string, days: number) => offsetTransitions("Europe/Berlin", new Date(from), days).map((t) => [new Date(t.at).toISOString(), t.before, t.after]);
    expect(berlin("2026-01-01T00:00:00Z", 365)).toEqual([
      ["2026-03-29T01:00:00.000Z", 60, 120],
      ["2026-10-25T01:00:00.000Z", 120, 60],
    ]);
    // The look-ahead ends exactly at the spring change: it is in.
    expect(berlin("2026-03-28T01:00:00Z", 1)).toEqual([["2026-03-29T01:00:00.000Z", 60, 120]]);
    expect(berlin("2026-03-29T01:30:00Z", 30)).toEqual([]);
    expect(offsetTransitions("Australia/Adelaide", new Date("2026-04-04T00:00:00Z"), 1).map((t) => new Date(t.at).toISOString())).toEqual(["2026-04-04T16:30:00.000Z"]);
  });
});

describe("DST warnings, word for word", () => {
  const from = new Date("2026-11-23T00:00:00Z");

  test("a skipped and a repeated time say what happens to the job and what to do", () => {
    const s = schedule("sun 01:30-04:00", OPTS, "Europe/London");
    expect(dstWarnings(s.jobs, "Europe/London", from).map((w) => w.message)).toEqual([
      "job warm-sun-0130-to-1 at 01:30 on 2027-03-28 (Europe/London): that local time does not exist, so the job will not run that day; move the window by an hour or use a zone without DST",
      "job warm-sun-0130-to-1 at 01:30 on 2027-10-31 (Europe/London): that local time occurs twice, so the job may run twice; move the window by an hour or use a zone without DST",
    ]);
  });

  test("only the minutes the change skips or repeats: 00:59 and 02:00 in London are safe, 01:00 and 01:59 are not", () => {
    const s = schedule("sun 00:59-01:00; sun 01:59-02:00", OPTS, "Europe/London");
    // One job warms at 00:59 and 01:59, one cools at 01:00 and 02:00; each is warned of its 01:xx time only.
    expect(s.jobs.map((j) => [j.name, j.cron])).toEqual([
      ["warm-sun-00-01h59m-to-1", "59 0,1 * * 0"],
      ["cool-sun-01-02h00m-to-0", "0 1,2 * * 0"],
    ]);
    expect(dstWarnings(s.jobs, "Europe/London", from).map((w) => [w.job, w.date, w.time, w.kind])).toEqual([
      ["cool-sun-01-02h00m-to-0", "2027-03-28", "01:00", "skipped"],
      ["warm-sun-00-01h59m-to-1", "2027-03-28", "01:59", "skipped"],
      ["cool-sun-01-02h00m-to-0", "2027-10-31", "01:00", "repeated"],
      ["warm-sun-00-01h59m-to-1", "2027-10-31", "01:59", "repeated"],
    ]);
  });

  test("only on the days the job runs, and within the look-ahead", () => {
    // London changes on Sundays: a Saturday job at the same time is never in a skipped hour.
    expect(dstWarnings(schedule("sat 01:30-04:00", OPTS, "Europe/London").jobs, "Europe/London", from)).toEqual([]);
    // 2027-03-28 01:00 UTC is 125 days and one hour after `from`.
    const s = schedule("sun 01:30-04:00", OPTS, "Europe/London");
    expect(dstWarnings(s.jobs, "Europe/London", from, 125)).toEqual([]);
    expect(dstWarnings(s.jobs, "Europe/London", from, 126).map((w) => w.date)).toEqual(["2027-03-28"]);
  });
});
