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
}

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
  for (let d = 0; d < shape.days; d++) {
    // Poisson-ish number of bursts per day.
    let bursts = 0;
    for (let k = 0; k < shape.burstsPerDay * 2; k++) if (rand() < 0.5) bursts++;
    for (let b = 0; b < bursts; b++) {
      const user = rand() < shape.mainUserShare ? "user-main" : `user-${1 + Math.floor(rand() * 40)}`;
      let t = start + d * 86_400_000 + pickHour() * 3_600_000 + Math.floor(rand() * 3_600_000);
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
