/**
 * Checks on a request log before the planner trusts it, each a warning a person can act on. Pure.
 */

const DAY = 86_400_000;

export interface Outliers {
  /** The timestamps kept (sorted). */
  readonly kept: number[];
  readonly dropped: number;
  /** The span the bulk of the log covers, for the message. */
  readonly bulkFrom: number;
  readonly bulkTo: number;
}

/**
 * Drops timestamps far outside the bulk of the log: one row ten years off would otherwise stretch the replay over a
 * decade (hours of run time) and dilute every cost. "Far" is Tukey's outer fence on the quartiles of the instants
 * (3 interquartile ranges), widened by a week so that a short log keeps its own edges.
 */
export function dropOutliers(sorted: readonly number[]): Outliers {
  const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * (sorted.length - 1)))];
  const [q1, q3] = [q(0.25), q(0.75)];
  const reach = 3 * (q3 - q1) + 7 * DAY;
  const lo = q1 - reach;
  const hi = q3 + reach;
  const kept = sorted.filter((t) => t >= lo && t <= hi);
  return { kept, dropped: sorted.length - kept.length, bulkFrom: kept[0], bulkTo: kept[kept.length - 1] };
}

/** Requests that start a burst: the first after a gap longer than `quietSeconds` (the instance would be gone). */
export function coldArrivals(sorted: readonly number[], quietSeconds: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < sorted.length; i++) if (i === 0 || sorted[i] - sorted[i - 1] > quietSeconds * 1000) out.push(sorted[i]);
  return out;
}

export const MIN_DAYS = 28;
export const MIN_REQUESTS = 200;

/**
 * A warning when the log is too short or too sparse to plan on, saying how sure the plan is: the cold fraction is
 * decided by bursts (one cold start each), so its 95% margin is taken on the number of bursts, not of requests.
 */
export function littleDataWarning(requests: number, days: number, bursts: number, targetColdFraction: number): string | undefined {
  if (days >= MIN_DAYS && requests >= MIN_REQUESTS) return undefined;
  const p = Math.min(0.5, Math.max(targetColdFraction, 0.01));
  const margin = bursts > 0 ? 1.96 * Math.sqrt((p * (1 - p)) / bursts) : 1;
  const what = [days < MIN_DAYS ? `${days.toFixed(1)} days (fewer than ${MIN_DAYS})` : undefined, requests < MIN_REQUESTS ? `${requests} requests (fewer than ${MIN_REQUESTS})` : undefined].filter(Boolean).join(" and ");
  return (
    `little data: ${what} in ${bursts} bursts; the plan's cold fraction is uncertain by about ±${(margin * 100).toFixed(1)} points (95%), ` +
    `and weekly patterns${days < 14 ? " cannot be told from chance (fewer than two of each weekday)" : " rest on few weeks"}; plan again when the log covers ${MIN_DAYS} days`
  );
}

/** Requests in flight at each arrival's instant (each lasting `serviceSeconds`): how many instances the log needs. */
export function inFlightPercentile(sorted: readonly number[], serviceSeconds: number, p: number): number {
  const service = serviceSeconds * 1000;
  const counts: number[] = [];
  let from = 0;
  for (let i = 0; i < sorted.length; i++) {
    while (sorted[from] + service <= sorted[i]) from++;
    counts.push(i - from + 1);
  }
  counts.sort((a, b) => a - b);
  return counts[Math.min(counts.length - 1, Math.floor(p * counts.length))] ?? 0;
}

/**
 * A saturated log: even kept warm all week the service cannot keep up (the p95 wait is far above a cold start), so
 * no window plan helps and the cold fraction understates what users wait. Suggests a `maxInstances` that covers the
 * 99th percentile of requests in flight.
 */
export function saturationWarning(
  alwaysWarmP95WaitSeconds: number,
  coldStartSeconds: number,
  maxInstances: number,
  concurrency: number,
  p99InFlight: number,
): string | undefined {
  if (alwaysWarmP95WaitSeconds <= Math.max(2 * coldStartSeconds, 60)) return undefined;
  const suggested = Math.min(100, Math.max(maxInstances + 1, Math.ceil(p99InFlight / concurrency)));
  return (
    `saturated: even warm all week, the p95 wait is ${Math.round(alwaysWarmP95WaitSeconds)} s (a cold start is ${coldStartSeconds} s): ` +
    `${maxInstances} instance${maxInstances === 1 ? "" : "s"} cannot keep up, so the cold figures understate the waits (Cloud Run would answer 429 to requests that pend too long); ` +
    `raise it: pulumi config set warmstart:maxInstances ${suggested} (covers the 99th percentile of ${p99InFlight} requests in flight)`
  );
}
