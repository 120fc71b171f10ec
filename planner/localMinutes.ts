/**
 * The local minute of the week of every minute over a span, computed once per log and zone. Pure.
 *
 * The planner prices hundreds of candidate plans against one log, and each replay asks for the policy's level once a
 * minute; with a lookup per minute built fresh for each candidate, time-zone conversion took most of the run time.
 * Here the zone's UTC offset is asked once per hour of the span (offsets change on the hour or half hour in every
 * zone in use; the hour's end is checked too, and an hour with a change is resolved minute by minute).
 */
import { MINUTES_PER_DAY, MINUTES_PER_WEEK, utcOffsetMinutes } from "../components/schedule/warmWindows";

const MINUTE = 60_000;
const HOUR = 3_600_000;

export interface LocalMinutes {
  /** First minute covered (epoch ms, on a whole minute). */
  readonly start: number;
  /** Minute of the week (0 = Monday 00:00 local) of minute i after `start`. */
  readonly minuteOfWeek: Uint16Array;
  /** The minute of the week of an instant; instants outside the span are converted directly. */
  readonly at: (t: number) => number;
}

export function localMinutes(fromMs: number, toMs: number, timeZone: string): LocalMinutes {
  const start = Math.floor(fromMs / MINUTE) * MINUTE;
  const count = Math.max(1, Math.ceil((toMs - start) / MINUTE) + 1);
  const mow = new Uint16Array(count);
  const toWeek = (utcMinute: number, off: number) => ((((utcMinute + off + 3 * MINUTES_PER_DAY) % MINUTES_PER_WEEK) + MINUTES_PER_WEEK) % MINUTES_PER_WEEK);
  for (let h = Math.floor(start / HOUR) * HOUR; h < start + count * MINUTE; h += HOUR) {
    const off = utcOffsetMinutes(new Date(h), timeZone);
    const steady = utcOffsetMinutes(new Date(h + HOUR - MINUTE), timeZone) === off;
    for (let m = Math.max(h, start); m < Math.min(h + HOUR, start + count * MINUTE); m += MINUTE) {
      // 1970-01-01 was a Thursday, 3 days after a Monday.
      mow[(m - start) / MINUTE] = toWeek(m / MINUTE, steady ? off : utcOffsetMinutes(new Date(m), timeZone));
    }
  }
  const at = (t: number) => {
    const i = Math.floor((t - start) / MINUTE);
    if (i >= 0 && i < count) return mow[i];
    return toWeek(Math.floor(t / MINUTE), utcOffsetMinutes(new Date(t), timeZone));
  };
  return { start, minuteOfWeek: mow, at };
}
