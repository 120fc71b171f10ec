import { afterEach, describe, expect, test, vi } from "vitest";
import { utcOffsetMinutes } from "../../components/schedule/warmWindows";
import { localMinutes } from "../../planner/localMinutes";

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const utc = (iso: string) => Date.parse(`${iso}Z`);
/** Minute of the week (0 = Monday 00:00) of a local weekday and time: `mow("Sun", "02:59")`. */
const mow = (day: string, hhmm: string) => DAYS.indexOf(day) * 1440 + Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3));

/** What the zone's wall clock reads at an instant, as a minute of the week; Intl, independently of the module. */
function wallMinuteOfWeek(t: number, timeZone: string): number {
  const fmt = new Intl.DateTimeFormat("en-GB", { timeZone, weekday: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  const p = Object.fromEntries(fmt.formatToParts(new Date(t)).map((x) => [x.type, x.value]));
  return DAYS.indexOf(p.weekday) * 1440 + Number(p.hour) * 60 + Number(p.minute);
}

/** The minute of the week by the zone's UTC offset at that instant (warmWindows' utcOffsetMinutes), read off a Date. */
function byOffset(t: number, timeZone: string): number {
  const local = new Date(Math.floor(t / MIN) * MIN + utcOffsetMinutes(new Date(t), timeZone) * MIN);
  return ((local.getUTCDay() + 6) % 7) * 1440 + local.getUTCHours() * 60 + local.getUTCMinutes();
}

/** Every minute of [from, to] in the table agrees with the wall clock. */
function expectWallClock(from: number, to: number, timeZone: string): void {
  const lm = localMinutes(from, to, timeZone);
  for (let t = from; t <= to; t += MIN) expect(lm.minuteOfWeek[(t - lm.start) / MIN], `${new Date(t).toISOString()} in ${timeZone}`).toBe(wallMinuteOfWeek(t, timeZone));
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("local minutes of the week", () => {
  test("minute 0 is Monday 00:00 on the zone's wall clock, and the last, 10079, Sunday 23:59", () => {
    // Monday 2026-11-30 00:00 is 23:00 UTC on the Sunday in Berlin (UTC+1 in winter).
    const berlin = localMinutes(utc("2026-11-29T22:58"), utc("2026-11-29T23:01"), "Europe/Berlin");
    expect([...berlin.minuteOfWeek]).toEqual([10078, 10079, 0, 1]);
    const plain = localMinutes(utc("2026-11-30T00:00"), utc("2026-11-30T00:02"), "UTC");
    expect([...plain.minuteOfWeek]).toEqual([0, 1, 2]);
    expect(localMinutes(utc("2026-12-03T13:45"), utc("2026-12-03T13:45"), "UTC").minuteOfWeek[0]).toBe(mow("Thu", "13:45"));
  });

  test("Berlin springs forward at 02:00 (no 02:xx that Sunday) and falls back at 03:00 (02:xx twice)", () => {
    const spring = localMinutes(utc("2026-03-28T23:00"), utc("2026-03-29T03:00"), "Europe/Berlin");
    expect(spring.at(utc("2026-03-29T00:59"))).toBe(mow("Sun", "01:59"));
    expect(spring.at(utc("2026-03-29T01:00"))).toBe(mow("Sun", "03:00"));
    const autumn = localMinutes(utc("2026-10-24T23:00"), utc("2026-10-25T03:00"), "Europe/Berlin");
    expect(autumn.at(utc("2026-10-25T00:00"))).toBe(mow("Sun", "02:00"));
    expect(autumn.at(utc("2026-10-25T00:59"))).toBe(mow("Sun", "02:59"));
    expect(autumn.at(utc("2026-10-25T01:00"))).toBe(mow("Sun", "02:00"));
    expectWallClock(utc("2026-03-28T00:00"), utc("2026-03-30T00:00"), "Europe/Berlin");
    expectWallClock(utc("2026-10-24T00:00"), utc("2026-10-26T00:00"), "Europe/Berlin");
  });

  test("Adelaide's clocks change at 16:30 UTC, inside a UTC hour, and the table follows to the minute", () => {
    // Back 03:00 -> 02:00 (UTC+10:30 -> +9:30) on 2026-04-05, forward 02:00 -> 03:00 on 2026-10-04.
    const autumn = localMinutes(utc("2026-04-04T15:00"), utc("2026-04-04T18:00"), "Australia/Adelaide");
    expect(autumn.at(utc("2026-04-04T16:29"))).toBe(mow("Sun", "02:59"));
    expect(autumn.at(utc("2026-04-04T16:30"))).toBe(mow("Sun", "02:00"));
    const spring = localMinutes(utc("2026-10-03T15:00"), utc("2026-10-03T18:00"), "Australia/Adelaide");
    expect(spring.at(utc("2026-10-03T16:29"))).toBe(mow("Sun", "01:59"));
    expect(spring.at(utc("2026-10-03T16:30"))).toBe(mow("Sun", "03:00"));
    expectWallClock(utc("2026-04-04T12:00"), utc("2026-04-04T20:00"), "Australia/Adelaide");
    expectWallClock(utc("2026-10-03T12:00"), utc("2026-10-03T20:00"), "Australia/Adelaide");
  });

  test("Santiago changes at midnight: Saturday 23:xx twice in April, no Sunday 00:xx in September", () => {
    const april = localMinutes(utc("2026-04-05T02:00"), utc("2026-04-05T05:00"), "America/Santiago");
    expect(april.at(utc("2026-04-05T02:59"))).toBe(mow("Sat", "23:59"));
    expect(april.at(utc("2026-04-05T03:00"))).toBe(mow("Sat", "23:00"));
    expect(april.at(utc("2026-04-05T04:00"))).toBe(mow("Sun", "00:00"));
    const september = localMinutes(utc("2026-09-06T03:00"), utc("2026-09-06T05:00"), "America/Santiago");
    expect(september.at(utc("2026-09-06T03:59"))).toBe(mow("Sat", "23:59"));
    expect(september.at(utc("2026-09-06T04:00"))).toBe(mow("Sun", "01:00"));
    expectWallClock(utc("2026-04-04T22:00"), utc("2026-04-05T06:00"), "America/Santiago");
    expectWallClock(utc("2026-09-05T22:00"), utc("2026-09-06T06:00"), "America/Santiago");
  });

  test("at() agrees with the zone's UTC offset for instants inside the span, at its edges and outside it", () => {
    const from = utc("2026-03-28T12:00:30"); // the span starts at 12:00:00
    const to = utc("2026-03-29T12:00");
    for (const zone of ["Europe/Berlin", "Australia/Adelaide", "America/Santiago", "Asia/Kolkata"]) {
      const lm = localMinutes(from, to, zone);
      const instants = [
        from - 400 * DAY, // a year before
        from - DAY,
        utc("2026-03-28T11:59:59.999"), // just before the first minute
        utc("2026-03-28T12:00"),
        from,
        utc("2026-03-29T01:00:45"), // Berlin's change, mid-minute
        to,
        to + 59_999, // still the last minute
        to + MIN, // the first minute after it
        to + 7 * DAY + 17 * MIN,
        to + 300 * DAY,
      ];
      for (const t of instants) expect(lm.at(t), `${new Date(t).toISOString()} in ${zone}`).toBe(byOffset(t, zone));
    }
  });

  test("the span starts on the whole minute holding its first instant and includes the minute of its last", () => {
    const lm = localMinutes(utc("2026-12-03T10:00:30.500"), utc("2026-12-03T10:02"), "UTC");
    expect(lm.start).toBe(utc("2026-12-03T10:00"));
    expect([...lm.minuteOfWeek]).toEqual([mow("Thu", "10:00"), mow("Thu", "10:01"), mow("Thu", "10:02")]);
    // One instant covers its own minute; a span that ends before it starts still covers the first minute.
    expect(localMinutes(utc("2026-12-03T10:00"), utc("2026-12-03T10:00"), "UTC").minuteOfWeek).toHaveLength(1);
    expect(localMinutes(utc("2026-12-03T10:00"), utc("2026-12-03T09:00"), "UTC").minuteOfWeek).toHaveLength(1);
    // 90 days, as the planner reads a log: one entry a minute, end included.
    expect(localMinutes(utc("2026-09-01T00:00"), utc("2026-11-30T00:00"), "UTC").minuteOfWeek).toHaveLength(90 * 1440 + 1);
  });

  test("the zone is asked twice an hour of the span, a minute at a time only in an hour holding a change, and not at all by at() inside it", () => {
    // The planner prices hundreds of plans against one log and asks once a minute per plan: a conversion per minute
    // made it slow.
    const asks = vi.spyOn(Intl.DateTimeFormat.prototype, "formatToParts");
    // 24 hours, one of them (16:00-17:00 UTC) holding Adelaide's change at 16:30.
    const from = utc("2026-04-04T04:00");
    const lm = localMinutes(from, from + DAY - MIN, "Australia/Adelaide");
    expect(asks).toHaveBeenCalledTimes(24 * 2 + 60);
    asks.mockClear();
    for (let t = lm.start; t < from + DAY; t += MIN) lm.at(t);
    expect(asks).not.toHaveBeenCalled();
    lm.at(from + DAY);
    expect(asks).toHaveBeenCalledTimes(1);
    // Berlin changes on the UTC hour: no hour of the span holds a change.
    asks.mockClear();
    localMinutes(utc("2026-03-29T00:00"), utc("2026-03-29T02:59"), "Europe/Berlin");
    expect(asks).toHaveBeenCalledTimes(3 * 2);
  });
});
