/**
 * The service's objectives (issue #19): fewer cold starts a day than a number, and request latency under a number of
 * seconds at given percentiles. Parsed once into typed values; the dashboard, the alert policy and the SLOs are built
 * from them (dashboard.ts, observability.ts). Pure.
 */
import { MINUTES_PER_DAY, MINUTES_PER_WEEK, type WeeklyLevels } from "../schedule/warmWindows";

/** `percentile` percent of requests take less than `seconds`, e.g. p90 < 10 s is `{ percentile: 90, seconds: 10 }`. */
export interface LatencyObjective {
  readonly percentile: number;
  readonly seconds: number;
}

export interface Objectives {
  /** Fewer cold starts than this in any 24 hours; 0: no objective (no threshold, no alert). */
  readonly coldStartsPerDay: number;
  /** By percentile, ascending; empty: no latency objective (no thresholds, no SLOs). */
  readonly latency: readonly LatencyObjective[];
}

export const LATENCY_OBJECTIVES_EXAMPLE = '{"p50":5,"p90":10,"p99":25}';

/** Thrown by {@link parseLatencyObjectives}; the message says what was expected, with a correct example. */
export class ObjectiveError extends Error {}

// An SLO's goal is the percentile as a fraction, and Cloud Monitoring takes 0 < goal <= 0.999 (ServiceLevelObjective.goal,
// https://cloud.google.com/monitoring/api/ref_v3/rest/v3/services.serviceLevelObjectives; gcp.monitoring.Slo's `goal`).
const PERCENTILE_RE = /^p(\d{1,2}(?:\.\d)?)$/;
const MAX_PERCENTILE = 99.9;

/**
 * `{"p50":5,"p90":10,"p99":25}`: seconds per percentile, as a JSON object (a stack file may also write it as a YAML
 * map, which Pulumi hands over as the same JSON). `{}` sets none.
 */
export function parseLatencyObjectives(text: string): LatencyObjective[] {
  const example = `e.g. ${LATENCY_OBJECTIVES_EXAMPLE} (p90 < 10 s: 90% of requests take less than 10 seconds), or {} for none`;
  let value: unknown;
  try {
    value = JSON.parse(text.trim() === "" ? "{}" : text);
  } catch {
    throw new ObjectiveError(`must be a JSON object of percentile to seconds, ${example}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new ObjectiveError(`must be a JSON object of percentile to seconds, ${example}`);
  const out: LatencyObjective[] = [];
  for (const [key, seconds] of Object.entries(value)) {
    const m = PERCENTILE_RE.exec(key);
    const percentile = m ? Number(m[1]) : NaN;
    if (!m || percentile <= 0 || percentile > MAX_PERCENTILE) {
      throw new ObjectiveError(`has "${key}", which is not a percentile: write p followed by 1..${MAX_PERCENTILE} (p50, p90, p99, p99.9), ${example}`);
    }
    if (typeof seconds !== "number" || !Number.isFinite(seconds) || seconds <= 0 || seconds > 3600) {
      throw new ObjectiveError(`has ${key}: ${JSON.stringify(seconds)}; each objective is a number of seconds above 0 and at most 3600, ${example}`);
    }
    if (out.some((o) => o.percentile === percentile)) throw new ObjectiveError(`names p${percentile} twice, ${example}`);
    out.push({ percentile, seconds });
  }
  out.sort((a, b) => a.percentile - b.percentile);
  for (let i = 1; i < out.length; i++) {
    const [lo, hi] = [out[i - 1], out[i]];
    if (hi.seconds < lo.seconds) {
      throw new ObjectiveError(`asks p${hi.percentile} for ${hi.seconds} s but p${lo.percentile} for ${lo.seconds} s: a higher percentile cannot be faster than a lower one, ${example}`);
    }
  }
  return out;
}

/**
 * The most instances the warm schedule itself starts in any 24 hours: each rise of min instances starts that many
 * (fewer when traffic already keeps some up). Every instance start logs the supervisor's ready line, which is what the
 * cold-start count counts.
 */
export function scheduledStartsPer24h(levels: WeeklyLevels): number {
  const rises: { minute: number; count: number }[] = [];
  for (let m = 0; m < MINUTES_PER_WEEK; m++) {
    const rise = levels[m] - levels[(m + MINUTES_PER_WEEK - 1) % MINUTES_PER_WEEK];
    if (rise > 0) rises.push({ minute: m, count: rise });
  }
  let most = 0;
  for (const from of rises) {
    const within = rises.filter((r) => (r.minute - from.minute + MINUTES_PER_WEEK) % MINUTES_PER_WEEK < MINUTES_PER_DAY);
    most = Math.max(most, within.reduce((n, r) => n + r.count, 0));
  }
  return most;
}

/** A warning when the warm schedule alone reaches the cold-start objective: the alert would fire on such days. */
export function coldStartObjectiveWarning(objective: number, scheduledStarts: number): string | undefined {
  if (objective === 0 || scheduledStarts < objective) return undefined;
  const fix = scheduledStarts + 1;
  return (
    `warmstart:coldStartsPerDayObjective is ${objective} (fewer than ${objective} cold starts in 24 h), but the warm windows alone start ` +
    `${scheduledStarts} instance${scheduledStarts === 1 ? "" : "s"} in 24 h, and each instance start counts as a cold start: the alert would fire on those days; ` +
    `set it to at least ${fix} (pulumi config set warmstart:coldStartsPerDayObjective ${fix}), or 0 for no objective`
  );
}

/** The SLO id of a latency objective: `latency-p90`, `latency-p99-9`. */
export function latencySloId(o: LatencyObjective): string {
  return `latency-p${String(o.percentile).replace(".", "-")}`;
}
