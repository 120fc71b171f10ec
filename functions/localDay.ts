/**
 * Local calendar days in the stack's time zone, for the daily spend limit: a daily hold lasts until the next local
 * midnight. Pure; DST-correct because every instant is read on the zone's own wall clock (IANA data in Node's ICU),
 * never computed as "plus 24 hours": a local day is 23, 24 or 25 hours long.
 */
import { wallClock } from "../components/schedule/warmWindows";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** The local date of an instant, YYYY-MM-DD. */
export function localDate(at: Date, timeZone: string): string {
  const w = wallClock(at, timeZone);
  return `${w.year}-${String(w.month).padStart(2, "0")}-${String(w.day).padStart(2, "0")}`;
}

/**
 * The first instant of the local day after the one `at` falls on: local midnight, or, where a DST change skips
 * midnight (America/Santiago moves its clocks from 24:00 to 01:00 in September), the first minute the new day has.
 * Found on the wall clock: whole hours forward until the date changes (at most 26), then the minutes of that hour.
 */
export function nextLocalMidnight(at: Date, timeZone: string): Date {
  const today = localDate(at, timeZone);
  const start = Math.floor(at.getTime() / MINUTE) * MINUTE;
  let hour = start + HOUR;
  while (localDate(new Date(hour), timeZone) <= today) hour += HOUR;
  for (let t = hour - HOUR + MINUTE; t < hour; t += MINUTE) if (localDate(new Date(t), timeZone) > today) return new Date(t);
  return new Date(hour);
}
