/**
 * A synthetic request log with the statistics of one team's real 90-day log: ~5,800 requests, two thirds from one
 * user, in bursts of ~15 requests with a median gap of 0.6 min, a peak 18-21 UTC and a dead zone 04-09 UTC.
 * Deterministic for a seed, so tests and the example agree.
 */

export interface LogShape {
  readonly seed: number;
  readonly days: number;
  /** First day, UTC midnight. */
  readonly startIso: string;
  readonly burstsPerDay: number;
  readonly requestsPerBurst: number;
  /** Median gap between requests in a burst, minutes. */
  readonly medianGapMinutes: number;
  /** Relative weight of each UTC hour for a burst's start. */
  readonly hourWeights: readonly number[];
  /** Share of requests from the heaviest user. */
  readonly mainUserShare: number;
  /**
   * Zone the hour weights are read in (default UTC). In a zone with DST the bursts follow the local clock, so the
   * log's UTC times move by an hour across a change, as an office's do.
   */
  readonly timeZone?: string;
  /** Relative number of bursts per weekday, Monday first (default: every day alike). */
  readonly dayWeights?: readonly number[];
}

/**
 * Office hours in New York (a DST zone): weekdays 8-18 local with a lunch dip, weekends quiet. Not used to tune the
 * planner; its acceptance test plans on the first 90 days and judges on the next 30 (test/slow/planCli.test.ts).
 */
export const OFFICE_SHAPE: LogShape = {
  seed: 4242,
  days: 120,
  startIso: "2026-01-05T00:00:00Z",
  burstsPerDay: 7,
  requestsPerBurst: 6,
  medianGapMinutes: 1.2,
  hourWeights: [0, 0, 0, 0, 0, 0, 0.2, 1, 5, 8, 8, 7, 3, 6, 8, 8, 6, 3, 1, 0.3, 0.2, 0, 0, 0],
  mainUserShare: 0.2,
  timeZone: "America/New_York",
  dayWeights: [1, 1, 1, 1, 0.9, 0.08, 0.05],
};

/** A second team, never used for tuning: evenings and weekends, in Berlin (DST), 120 days. */
export const HOLDOUT_SHAPE: LogShape = {
  seed: 977,
  days: 120,
  startIso: "2026-02-02T00:00:00Z",
  burstsPerDay: 5,
  requestsPerBurst: 10,
  medianGapMinutes: 0.8,
  hourWeights: [1, 0.5, 0, 0, 0, 0, 0, 0.5, 1, 1.5, 2, 2, 2, 2, 2, 2, 3, 4, 6, 8, 8, 6, 4, 2],
  mainUserShare: 0.5,
  timeZone: "Europe/Berlin",
  dayWeights: [0.8, 0.8, 0.9, 1, 1.2, 1.6, 1.4],
};

/** Peak 18-21 UTC, dead zone 04-09 UTC. */
export const TEAM_SHAPE: LogShape = {
  seed: 20261123,
  days: 90,
  startIso: "2026-08-24T00:00:00Z",
  burstsPerDay: 4.3,
  requestsPerBurst: 15,
  medianGapMinutes: 0.6,
  hourWeights: [3, 2, 1, 0.5, 0, 0, 0, 0, 0, 0.5, 1, 1.5, 2, 2, 2, 2.5, 3, 4, 8, 9, 9, 7, 5, 4],
  mainUserShare: 2 / 3,
};

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface ExampleRequest {
  readonly timestamp: number;
  readonly user: string;
}

/** Epoch ms of a local wall-clock time, resolved like a clock on the wall (the hour skipped in spring moves on). */
function localToEpoch(y: number, mo: number, d: number, msOfDay: number, timeZone: string): number {
  const naive = Date.UTC(y, mo, d) + msOfDay;
  const offset = (t: number) => {
    const parts = new Intl.DateTimeFormat("en-US", { timeZone, hourCycle: "h23", year: "numeric", month: "numeric", day: "numeric", hour: "numeric", minute: "numeric", second: "numeric" }).formatToParts(new Date(t));
    const v = (k: string) => Number(parts.find((p) => p.type === k)!.value);
    return Date.UTC(v("year"), v("month") - 1, v("day"), v("hour"), v("minute"), v("second")) - Math.floor(t / 1000) * 1000;
  };
  const guess = naive - offset(naive);
  return naive - offset(guess);
}

export function generateRequests(shape: LogShape): ExampleRequest[] {
  const rand = mulberry32(shape.seed);
  const totalWeight = shape.hourWeights.reduce((a, b) => a + b, 0);
  const pickHour = () => {
    let r = rand() * totalWeight;
    for (let h = 0; h < 24; h++) if ((r -= shape.hourWeights[h]) < 0) return h;
    return 23;
  };
  const start = Date.parse(shape.startIso);
  const out: ExampleRequest[] = [];
  const dayMean = shape.dayWeights ? shape.dayWeights.reduce((a, b) => a + b, 0) / 7 : 1;
  for (let d = 0; d < shape.days; d++) {
    const date = new Date(start + d * 86_400_000);
    const weekday = (date.getUTCDay() + 6) % 7;
    const perDay = shape.dayWeights ? (shape.burstsPerDay * shape.dayWeights[weekday]) / dayMean : shape.burstsPerDay;
    // Poisson-ish number of bursts per day.
    let bursts = 0;
    for (let k = 0; k < perDay * 2; k++) if (rand() < 0.5) bursts++;
    for (let b = 0; b < bursts; b++) {
      const user = rand() < shape.mainUserShare ? "user-main" : `user-${1 + Math.floor(rand() * 40)}`;
      const msOfDay = pickHour() * 3_600_000 + Math.floor(rand() * 3_600_000);
      let t = shape.timeZone ? localToEpoch(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate(), msOfDay, shape.timeZone) : start + d * 86_400_000 + msOfDay;
      const n = Math.max(1, Math.round(shape.requestsPerBurst * (0.5 + rand())));
      for (let i = 0; i < n; i++) {
        out.push({ timestamp: t, user });
        // Exponential gaps with the given median (median = mean x ln 2).
        t += Math.round((-Math.log(1 - rand()) * shape.medianGapMinutes * 60_000) / Math.LN2);
      }
    }
  }
  return out.sort((a, b) => a.timestamp - b.timestamp);
}

export function toCsv(rows: readonly ExampleRequest[]): string {
  return ["timestamp,user", ...rows.map((r) => `${new Date(r.timestamp).toISOString()},${r.user}`)].join("\n") + "\n";
}
