/**
 * Warm windows: the `warmstart:warmWindows` grammar, the weekly min-instance step function it defines, and its
 * compilation to the fewest Cloud Scheduler cron jobs. Pure: no Pulumi imports.
 *
 * Semantics: at local wall-clock time t in the stack's timezone, the desired min instances is
 * max(idleMinInstances, count of every window w with t in [start(w) - lead, end(w))). Overlapping windows take
 * the maximum, never the sum.
 */

export const DAY_NAMES = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;
export type DayName = (typeof DAY_NAMES)[number];

export const MINUTES_PER_DAY = 24 * 60;
export const MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY;

/** One parsed window. Days are 0 = Monday .. 6 = Sunday; minutes count from local midnight of each day. */
export interface WarmWindow {
  readonly text: string;
  readonly days: readonly number[];
  readonly startMinute: number;
  /** Exclusive; 1..1440. When `endMinute <= startMinute` the window runs into the next day. */
  readonly endMinute: number;
  /** Min instances inside the window; undefined means the stack's `warmMinInstances`. */
  readonly count: number | undefined;
}

export class WarmWindowsError extends Error {}

const DAY_GROUPS: Record<string, readonly number[]> = {
  daily: [0, 1, 2, 3, 4, 5, 6],
  weekdays: [0, 1, 2, 3, 4],
  weekends: [5, 6],
};

const WINDOW_RE = /^(\S+)\s+(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})(?:\s+x\s*(\S+))?$/;
const TIME_RANGE_RE = /\d{1,2}:\d{2}\s*-\s*\d{1,2}:\d{2}/g;
const EXAMPLE = '"weekdays 09:00-21:00; sat,sun 12:00-18:00 x2"';

export interface WindowLimits {
  /** The stack's `warmstart:maxInstances`: a window's count (xN) may not exceed it. */
  readonly maxInstances?: number;
}

/**
 * Parses `warmWindows`: one string with windows separated by ";", or a list (a YAML list in the stack file) with one
 * window per item. Throws a {@link WarmWindowsError} naming the window and what is wrong, with a correct example.
 * @example parseWarmWindows("weekdays 09:00-21:00; sat,sun 12:00-18:00; fri 18:00-23:30 x2")
 * @example parseWarmWindows(["weekdays 09:00-21:00", "sat,sun 12:00-18:00"])
 */
export function parseWarmWindows(input: string | readonly string[], limits: WindowLimits = {}): WarmWindow[] {
  if (typeof input !== "string") {
    return input.map((item, i) => {
      const fragment = item.trim().replace(/\s+/g, " ");
      if (fragment === "") throw new WarmWindowsError(`item ${i + 1} of the list is empty; each item is one window, e.g. "weekdays 09:00-21:00"`);
      if (fragment.includes(";")) {
        throw new WarmWindowsError(`item ${i + 1} of the list ("${fragment}") holds several windows: in a list, put one window per item (- "weekdays 09:00-17:00" then - "sat 10:00-14:00")`);
      }
      return parseWindow(fragment, limits);
    });
  }
  const fragments = input.split(";").map((f) => f.trim().replace(/\s+/g, " "));
  if (fragments.every((f) => f === "")) return [];
  return fragments.map((fragment, i) => {
    if (fragment === "") {
      throw new WarmWindowsError(`window ${i + 1} is empty (stray ";"?); windows are separated by ";", e.g. ${EXAMPLE}`);
    }
    return parseWindow(fragment, limits);
  });
}

function parseWindow(fragment: string, limits: WindowLimits): WarmWindow {
  const lower = fragment.toLowerCase();
  const fail: (why: string) => never = (why) => {
    throw new WarmWindowsError(`window "${fragment}": ${why}`);
  };
  const m = WINDOW_RE.exec(lower);
  if (!m) {
    const ranges = lower.match(TIME_RANGE_RE) ?? [];
    if (ranges.length > 1) {
      // "weekdays 09:00-17:00,sat 10:00-14:00": a comma joins days within one window, ";" separates windows.
      const fixed = fragment.replace(/(\d{1,2}:\d{2}(?:\s*x\s*\d+)?)\s*,\s*/gi, "$1; ");
      fail(`holds ${ranges.length} windows; separate windows with ";" (a comma joins days within one window), e.g. "${fixed}"`);
    }
    if (!/\d{1,2}:\d{2}/.test(lower)) fail(`expected "<days> HH:MM-HH:MM [xN]", e.g. ${EXAMPLE}`);
    if (ranges.length === 0) fail('expected "HH:MM-HH:MM" with a "-" between start and end, e.g. "weekdays 09:00-21:00"');
    fail('expected "<days> HH:MM-HH:MM [xN]": days without spaces (e.g. "sat,sun"), then the times, then an optional count, e.g. "sat,sun 12:00-18:00 x2"');
  }
  const [, daysText, startText, endText, countText] = m;
  const days = parseDays(daysText, fail);
  const startMinute = parseTime(startText, false, fail);
  const endMinute = parseTime(endText, true, fail);
  if (endMinute === startMinute) {
    // Read as "wraps into the next day" it would be 24 h warm: too costly to be a typo's meaning.
    fail(`starts and ends at ${formatMinuteOfDay(startMinute)}, so it is empty; a whole day is written 00:00-24:00, e.g. "${daysText} 00:00-24:00"`);
  }
  let count: number | undefined;
  if (countText !== undefined) {
    if (!/^\d+$/.test(countText)) fail(`count "x${countText}" must be a whole number, e.g. "x2"`);
    count = Number(countText);
    if (count < 1) fail(`count x${count} must be at least x1 (a window with no count keeps warmstart:warmMinInstances); outside every window the service drops to warmstart:idleMinInstances`);
    const max = limits.maxInstances ?? 100;
    if (count > max) {
      fail(
        limits.maxInstances === undefined
          ? `count x${count} must be at most x100 (the largest warmstart:maxInstances)`
          : `count x${count} is more than warmstart:maxInstances (${max}); lower the count, e.g. "${fragment.replace(/x\s*\d+\s*$/i, `x${max}`)}", or raise warmstart:maxInstances to ${count} (pulumi config set warmstart:maxInstances ${count})`,
      );
    }
  }
  return { text: fragment, days, startMinute, endMinute, count };
}

function parseDays(text: string, fail: (why: string) => never): number[] {
  const group = DAY_GROUPS[text];
  if (group) return [...group];
  const days = new Set<number>();
  for (const spec of text.split(",")) {
    const ends = spec.split("-");
    if (ends.length > 2 || ends.some((e) => e === "")) fail(`day spec "${spec}" must be a day or a range like "mon-fri"`);
    const idx = ends.map((name) => {
      const d = DAY_NAMES.indexOf(name as DayName);
      if (d < 0) fail(`unknown day "${name}"; use mon tue wed thu fri sat sun, daily, weekdays or weekends`);
      return d;
    });
    // Ranges wrap around the week: fri-mon is fri, sat, sun, mon.
    const [from, to] = [idx[0], idx[idx.length - 1]];
    for (let d = from; ; d = (d + 1) % 7) {
      days.add(d);
      if (d === to) break;
    }
  }
  return [...days].sort((a, b) => a - b);
}

function parseTime(text: string, isEnd: boolean, fail: (why: string) => never): number {
  const [h, m] = text.split(":").map(Number);
  if (isEnd && h === 24 && m === 0) return MINUTES_PER_DAY;
  if (h > 23 || m > 59) fail(`time ${text} is not a valid time; use 00:00-23:59${isEnd ? " (or 24:00 as an end)" : ""}`);
  return h * 60 + m;
}

/** The desired min instances for each minute of the week (index 0 = Monday 00:00 local). */
export type WeeklyLevels = Int32Array;

export interface ScheduleOptions {
  readonly warmMinInstances: number;
  readonly idleMinInstances: number;
  readonly leadMinutes: number;
}

export function weeklyLevels(windows: readonly WarmWindow[], opts: ScheduleOptions): WeeklyLevels {
  const levels = new Int32Array(MINUTES_PER_WEEK).fill(opts.idleMinInstances);
  for (const w of windows) {
    const count = w.count ?? opts.warmMinInstances;
    const length = windowLength(w) + opts.leadMinutes;
    for (const day of w.days) {
      const from = day * MINUTES_PER_DAY + w.startMinute - opts.leadMinutes;
      for (let i = 0; i < Math.min(length, MINUTES_PER_WEEK); i++) {
        const m = mod(from + i, MINUTES_PER_WEEK);
        if (levels[m] < count) levels[m] = count;
      }
    }
  }
  return levels;
}

function windowLength(w: WarmWindow): number {
  return w.endMinute > w.startMinute ? w.endMinute - w.startMinute : w.endMinute + MINUTES_PER_DAY - w.startMinute;
}

/** "HH:MM" for a minute of the day; 1440 reads "24:00", as a window end may. */
export function formatMinuteOfDay(m: number): string {
  return `${pad(Math.floor(m / 60))}:${pad(m % 60)}`;
}

/** Per day (0 = Monday): the level in force at 00:00 and each change that day, as synth and the dashboard show them. */
export function edgesByDay(levels: WeeklyLevels): { atMidnight: number; changes: { time: string; level: number }[] }[] {
  const edges = weeklyEdges(levels);
  return DAY_NAMES.map((_, d) => ({
    atMidnight: levels[d * MINUTES_PER_DAY],
    changes: edges
      .filter((e) => Math.floor(e.minuteOfWeek / MINUTES_PER_DAY) === d)
      .map((e) => ({ time: formatMinuteOfDay(e.minuteOfWeek % MINUTES_PER_DAY), level: e.level })),
  }));
}

/** A change of level at one minute of the week. */
export interface Edge {
  readonly minuteOfWeek: number;
  readonly level: number;
}

export function weeklyEdges(levels: WeeklyLevels): Edge[] {
  const edges: Edge[] = [];
  for (let m = 0; m < MINUTES_PER_WEEK; m++) {
    const prev = levels[mod(m - 1, MINUTES_PER_WEEK)];
    if (levels[m] !== prev) edges.push({ minuteOfWeek: m, level: levels[m] });
  }
  return edges;
}

/** One Cloud Scheduler job: fires at every (day, hour, minute) of the cross product and sets `level`. */
export interface CronJob extends CronTimes {
  /** A name that says what the job does, e.g. `warm-weekdays-0855-to-1`; unique within a schedule. */
  readonly name: string;
  /** `M H * * DOW` in the schedule's timezone (DOW: 0 = Sunday, as cron counts). */
  readonly cron: string;
  readonly level: number;
}

/** A warmup call at window openings. */
export interface WarmupJob extends CronTimes {
  /** e.g. `warmup-weekdays-0900`. */
  readonly name: string;
  readonly cron: string;
}

/** A set of firing times that one cron expression covers exactly: every (day, hour, minute) of the product. */
export interface CronTimes {
  readonly days: readonly number[];
  readonly hours: readonly number[];
  readonly minutes: readonly number[];
}

/**
 * Groups minutes of the week into the fewest cron expressions this greedy merge finds: first the same time of day on
 * several days, then several hours sharing days and a minute, then several minutes sharing days and hours. Each
 * group is a cross product days × hours × minutes, so one `M H * * DOW` expression fires at exactly its points.
 */
export function groupIntoCronTimes(minutesOfWeek: Iterable<number>): CronTimes[] {
  const byTime = new Map<number, number[]>();
  for (const m of minutesOfWeek) {
    const t = m % MINUTES_PER_DAY;
    byTime.set(t, [...(byTime.get(t) ?? []), Math.floor(m / MINUTES_PER_DAY)]);
  }
  const byMinute = new Map<string, { days: number[]; minute: number; hours: number[] }>();
  for (const [t, days] of byTime) {
    const sorted = [...new Set(days)].sort((a, b) => a - b);
    const key = `${sorted.join(",")}/${t % 60}`;
    const entry = byMinute.get(key) ?? { days: sorted, minute: t % 60, hours: [] };
    entry.hours.push(Math.floor(t / 60));
    byMinute.set(key, entry);
  }
  const byHours = new Map<string, { days: number[]; hours: number[]; minutes: number[] }>();
  for (const g of byMinute.values()) {
    const hours = [...g.hours].sort((a, b) => a - b);
    const key = `${g.days.join(",")}/${hours.join(",")}`;
    const entry = byHours.get(key) ?? { days: g.days, hours, minutes: [] };
    entry.minutes.push(g.minute);
    byHours.set(key, entry);
  }
  return [...byHours.values()].map((g) => ({ days: g.days, hours: g.hours, minutes: [...g.minutes].sort((a, b) => a - b) }));
}

/** `M H * * DOW` for a set of times (DOW counted as cron does: 0 = Sunday). */
export function cronExpression(t: CronTimes): string {
  const dow = t.days.length === 7 ? "*" : cronList(t.days.map((d) => (d + 1) % 7).sort((a, b) => a - b));
  return `${cronList(t.minutes)} ${cronList(t.hours)} * * ${dow}`;
}

/** A job-name fragment for a set of times: `weekdays-0855`, or `daily-08-11h55m` for several. */
export function timesLabel(t: CronTimes): string {
  const time = t.hours.length === 1 && t.minutes.length === 1 ? `${pad(t.hours[0])}${pad(t.minutes[0])}` : `${t.hours.map(pad).join("-")}h${t.minutes.map(pad).join("-")}m`;
  return `${daysLabel(t.days)}-${time}`;
}

/**
 * Compiles the weekly step function to the Cloud Scheduler jobs that replay it: one job per group of edges that
 * set the same level at times one cron expression can express. Cloud Scheduler bills per job, so fewer cost less.
 */
export function compileCronJobs(levels: WeeklyLevels, idleMinInstances: number): CronJob[] {
  const byLevel = new Map<number, number[]>();
  for (const e of weeklyEdges(levels)) byLevel.set(e.level, [...(byLevel.get(e.level) ?? []), e.minuteOfWeek]);
  const jobs: CronJob[] = [];
  for (const [level, minutes] of byLevel) {
    for (const t of groupIntoCronTimes(minutes)) {
      const verb = level > idleMinInstances ? "warm" : "cool";
      jobs.push({ name: `${verb}-${timesLabel(t)}-to-${level}`, cron: cronExpression(t), level, ...t });
    }
  }
  return jobs.sort((a, b) => firstFire(a) - firstFire(b) || a.name.localeCompare(b.name));
}

function firstFire(j: CronTimes): number {
  return j.days[0] * MINUTES_PER_DAY + j.hours[0] * 60 + j.minutes[0];
}

/** A short label for a set of days: daily, weekdays, weekends, a range (`tue-thu`) or a list (`mon-wed-fri` reads as a range, so lists use `_`). */
export function daysLabel(days: readonly number[]): string {
  const group = dayGroupName(days);
  if (group) return group;
  const isRun = days.length > 2 && days.every((d, i) => i === 0 || d === days[i - 1] + 1);
  if (isRun) return `${DAY_NAMES[days[0]]}-${DAY_NAMES[days[days.length - 1]]}`;
  return days.map((d) => DAY_NAMES[d]).join("_");
}

/** Cron list with runs collapsed: [1,2,3,5] -> "1-3,5". */
function cronList(values: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < values.length; ) {
    let j = i;
    while (j + 1 < values.length && values[j + 1] === values[j] + 1) j++;
    parts.push(j - i >= 2 ? `${values[i]}-${values[j]}` : values.slice(i, j + 1).join(","));
    i = j + 1;
  }
  return parts.join(",");
}

function pad(n: number): string {
  return String(n).padStart(2, "0");
}

function mod(a: number, n: number): number {
  return ((a % n) + n) % n;
}

/** `daily`, `weekdays` or `weekends` when the sorted days are exactly that group (the grammar's names), else undefined. */
export function dayGroupName(days: readonly number[]): string | undefined {
  const key = days.join(",");
  for (const [name, group] of Object.entries(DAY_GROUPS)) if (group.join(",") === key) return name;
  return undefined;
}

/**
 * The minute of the week (0 = Monday 00:00 local) of each instant, with the zone's offset looked up once per UTC
 * hour: the simulator asks for every minute of a 90-day log, and Intl per minute would dominate the run.
 */
export function localMinuteOfWeekFn(timeZone: string): (t: number) => number {
  const offsets = new Map<number, number>();
  return (t: number) => {
    const hour = Math.floor(t / 3_600_000);
    let off = offsets.get(hour);
    if (off === undefined) {
      off = utcOffsetMinutes(new Date(hour * 3_600_000), timeZone);
      // Offsets change on the hour or half hour in every zone in use; check the hour's end too.
      if (utcOffsetMinutes(new Date(hour * 3_600_000 + 3_599_999), timeZone) !== off) off = NaN;
      offsets.set(hour, off);
    }
    if (Number.isNaN(off)) off = utcOffsetMinutes(new Date(t), timeZone);
    const localMinutes = Math.floor(t / 60_000) + off;
    // 1970-01-01 was a Thursday (3 days after Monday).
    return (((localMinutes + 3 * MINUTES_PER_DAY) % MINUTES_PER_WEEK) + MINUTES_PER_WEEK) % MINUTES_PER_WEEK;
  };
}

const minuteOfWeekFns = new Map<string, (t: number) => number>();

/** Minute of the week (0 = Monday 00:00) of an instant, read on the wall clock of `timeZone`. */
export function localMinuteOfWeek(at: Date, timeZone: string): number {
  let fn = minuteOfWeekFns.get(timeZone);
  if (!fn) minuteOfWeekFns.set(timeZone, (fn = localMinuteOfWeekFn(timeZone)));
  return fn(at.getTime());
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The wall-clock reading of an instant in a zone; weekday 0 = Monday. */
export function wallClock(at: Date, timeZone: string): { year: number; month: number; day: number; weekday: number; hour: number; minute: number } {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      weekday: "short",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
    });
    formatters.set(timeZone, f);
  }
  const p: Record<string, string> = {};
  for (const part of f.formatToParts(at)) p[part.type] = part.value;
  return {
    year: Number(p.year),
    month: Number(p.month),
    day: Number(p.day),
    weekday: DAY_NAMES.indexOf(p.weekday.toLowerCase() as DayName),
    hour: Number(p.hour),
    minute: Number(p.minute),
  };
}

export function isValidTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone });
    return true;
  } catch {
    return false;
  }
}

/**
 * The warm windows compiled for one time zone: the weekly levels, the min-instance jobs and the warmup calls. What the
 * WarmSchedule component deploys as Cloud Scheduler jobs and what synth shows.
 */
export interface CompiledSchedule {
  readonly windows: readonly WarmWindow[];
  readonly timeZone: string;
  readonly levels: WeeklyLevels;
  readonly jobs: readonly CronJob[];
  readonly idleMinInstances: number;
  /** Calls to `/warmup` as windows open (at their start, not their lead). */
  readonly warmups: readonly WarmupJob[];
}

export function buildWarmSchedule(windows: readonly WarmWindow[], timeZone: string, opts: ScheduleOptions): CompiledSchedule {
  const levels = weeklyLevels(windows, opts);
  const openings = new Set<number>();
  for (const w of windows) {
    for (const d of w.days) {
      const start = d * MINUTES_PER_DAY + w.startMinute;
      // A window that only continues one already warm at its level (e.g. "sat 00:00-02:00" after "fri 22:00-24:00")
      // opens nothing: no warmup call, as for the minutes inside any window (issue #20).
      if (levels[mod(start - opts.leadMinutes - 1, MINUTES_PER_WEEK)] >= (w.count ?? opts.warmMinInstances)) continue;
      openings.add(start);
    }
  }
  return {
    windows,
    timeZone,
    levels,
    jobs: compileCronJobs(levels, opts.idleMinInstances),
    idleMinInstances: opts.idleMinInstances,
    // In the order the windows list them: groupIntoCronTimes sorts each job's fields, and the jobs are sorted here.
    warmups: groupIntoCronTimes(openings)
      .map((t) => ({ name: `warmup-${timesLabel(t)}`, cron: cronExpression(t), ...t }))
      .sort((a, b) => firstFire(a) - firstFire(b)),
  };
}

/** The min instances the schedule wants in force at an instant. */
export function desiredMinInstances(schedule: CompiledSchedule, at: Date): number {
  return schedule.levels[localMinuteOfWeek(at, schedule.timeZone)];
}

/**
 * The weekly levels as their edges: small enough for an environment variable, so the budget guard and the deploy's
 * reconcile step can tell the level in force at any instant without the window grammar.
 */
export interface ScheduleEdges {
  readonly timeZone: string;
  /** The level at Monday 00:00 local. */
  readonly start: number;
  readonly edges: readonly Edge[];
}

export function scheduleEdges(schedule: CompiledSchedule): ScheduleEdges {
  return { timeZone: schedule.timeZone, start: schedule.levels[0], edges: weeklyEdges(schedule.levels) };
}

/** The level a {@link ScheduleEdges} has in force at an instant; equal to {@link desiredMinInstances}. */
export function levelAt(s: ScheduleEdges, at: Date): number {
  const m = localMinuteOfWeek(at, s.timeZone);
  let level = s.start;
  for (const e of s.edges) {
    if (e.minuteOfWeek > m) break;
    level = e.level;
  }
  return level;
}

/** Warm instance-hours per week, summed over instances (the cost model's input). */
export function warmInstanceHoursPerWeek(levels: WeeklyLevels): number {
  let minutes = 0;
  for (const l of levels) minutes += l;
  return minutes / 60;
}

/** The most instance-hours the schedule keeps warm in any 24 hours: a sliding day, across the week's end too. */
export function maxInstanceHoursIn24h(levels: WeeklyLevels): number {
  let sum = 0;
  for (let m = 0; m < MINUTES_PER_DAY; m++) sum += levels[m];
  let max = sum;
  for (let m = 0; m < MINUTES_PER_WEEK; m++) {
    sum += levels[(m + MINUTES_PER_DAY) % MINUTES_PER_WEEK] - levels[m];
    max = Math.max(max, sum);
  }
  return max / 60;
}

/** An edge that falls, on some date, in a local hour that the zone skips or repeats. */
export interface DstWarning {
  readonly job: string;
  /** Local date of the transition, YYYY-MM-DD. */
  readonly date: string;
  /** Local wall-clock time of the edge, HH:MM. */
  readonly time: string;
  readonly kind: "skipped" | "repeated";
  readonly message: string;
}

/** UTC offset of a zone at an instant, in minutes. */
export function utcOffsetMinutes(at: Date, timeZone: string): number {
  const w = wallClock(at, timeZone);
  const wallAsUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute);
  return Math.round((wallAsUtc - Math.floor(at.getTime() / 60_000) * 60_000) / 60_000);
}

interface Transition {
  /** First instant (ms, on a whole minute) with the new offset. */
  readonly at: number;
  readonly before: number;
  readonly after: number;
}

/** The zone's offset changes in [from, from + days). */
export function offsetTransitions(timeZone: string, from: Date, days: number): Transition[] {
  const out: Transition[] = [];
  const hour = 3_600_000;
  const start = Math.floor(from.getTime() / 60_000) * 60_000;
  let prev = utcOffsetMinutes(new Date(start), timeZone);
  for (let t = start + hour; t <= start + days * 24 * hour; t += hour) {
    const off = utcOffsetMinutes(new Date(t), timeZone);
    if (off === prev) continue;
    // Binary search the first minute with the new offset.
    let lo = t - hour;
    let hi = t;
    while (hi - lo > 60_000) {
      const mid = lo + Math.floor((hi - lo) / 120_000) * 60_000;
      if (utcOffsetMinutes(new Date(mid), timeZone) === prev) lo = mid;
      else hi = mid;
    }
    out.push({ at: hi, before: prev, after: off });
    prev = off;
  }
  return out;
}

/**
 * The edges (jobs) that fall in a skipped or repeated local hour in the next `days` days. Cloud Scheduler runs on
 * the wall clock: a job in a skipped hour does not run that day, and one in a repeated hour may run twice.
 */
export function dstWarnings(jobs: readonly (CronTimes & { name: string })[], timeZone: string, from: Date, days = 366): DstWarning[] {
  const warnings: DstWarning[] = [];
  for (const tr of offsetTransitions(timeZone, from, days)) {
    const kind = tr.after > tr.before ? "skipped" : "repeated";
    // Naive local minutes (wall clock read as if it were UTC) that do not exist, or exist twice.
    const first = tr.at + Math.min(tr.before, tr.after) * 60_000;
    const last = tr.at + Math.max(tr.before, tr.after) * 60_000;
    for (let t = first; t < last; t += 60_000) {
      const d = new Date(t);
      const weekday = (d.getUTCDay() + 6) % 7;
      const [h, m] = [d.getUTCHours(), d.getUTCMinutes()];
      for (const job of jobs) {
        if (!job.days.includes(weekday) || !job.hours.includes(h) || !job.minutes.includes(m)) continue;
        const date = d.toISOString().slice(0, 10);
        const time = formatMinuteOfDay(h * 60 + m);
        const effect = kind === "skipped" ? "does not exist, so the job will not run that day" : "occurs twice, so the job may run twice";
        warnings.push({
          job: job.name,
          date,
          time,
          kind,
          message: `job ${job.name} at ${time} on ${date} (${timeZone}): that local time ${effect}; move the window by an hour or use a zone without DST`,
        });
      }
    }
  }
  return warnings;
}
