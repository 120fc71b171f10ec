/**
 * Replays a request log against a min-instance policy with Cloud Run's semantics, to price a warm-window plan and
 * count the requests it leaves cold. Pure.
 *
 * Model (documented in the README): every request is served for `serviceSeconds` on an instance that serves one
 * request at a time (concurrency 1). An idle instance is kept `idleSeconds` after its last request and billed while
 * it exists. At most `maxInstances` exist. The policy's min instances are raised as its level rises (they start
 * cold too, which is what the warm lead is for) and kept while the level holds. A request that finds no ready, free
 * instance makes Cloud Run start one (if allowed) and is served by whichever instance can take it first, a busy one
 * freeing up or the new one once started; a request served by an instance still starting is cold and waits the
 * remaining cold-start time.
 */

export interface SimulationOptions {
  readonly serviceSeconds: number;
  readonly idleSeconds: number;
  readonly coldStartSeconds: number;
  readonly maxInstances: number;
  /** USD per instance-hour. */
  readonly hourlyCost: number;
}

export interface SimulationResult {
  readonly requests: number;
  readonly coldRequests: number;
  readonly coldFraction: number;
  /** Added wait over all requests, seconds. */
  readonly waitMeanSeconds: number;
  readonly waitP50Seconds: number;
  readonly waitP95Seconds: number;
  readonly billedInstanceHours: number;
  /** Billed hours scaled to an average month. */
  readonly monthlyCost: number;
  readonly periodDays: number;
}

interface Instance {
  readonly createdAt: number;
  readyAt: number;
  busyUntil: number;
  lastUsedAt: number;
  /** Last minute at which the policy's level needed this instance: it is billed at least until then. */
  heldUntil: number;
}

const MINUTE = 60_000;
const DAYS_PER_MONTH = 365.25 / 12;

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/**
 * @param times request instants (epoch ms, sorted)
 * @param levelAt the policy's min instances at an instant (0 everywhere for scale-to-zero)
 */
export function simulate(times: readonly number[], levelAt: (t: number) => number, o: SimulationOptions): SimulationResult {
  const service = o.serviceSeconds * 1000;
  const idle = o.idleSeconds * 1000;
  const cold = o.coldStartSeconds * 1000;
  const start = Math.floor(times[0] / MINUTE) * MINUTE;
  // Run on until the last request's instance has gone idle, so its tail is billed like every other.
  const end = Math.ceil((times[times.length - 1] + cold + 10 * service + idle + 1) / MINUTE) * MINUTE;
  // The policy was already in force before the log begins: its instances are warm at the start.
  let alive: Instance[] = Array.from({ length: Math.min(o.maxInstances, levelAt(start)) }, () => ({
    createdAt: start,
    readyAt: start,
    busyUntil: start,
    lastUsedAt: start,
    heldUntil: start,
  }));
  let billedMs = 0;
  let coldRequests = 0;
  const waits: number[] = [];
  let next = 0;

  const retire = (inst: Instance, at: number) => (billedMs += Math.max(0, at - inst.createdAt));

  for (let minute = start; minute < end; minute += MINUTE) {
    const level = Math.min(o.maxInstances, levelAt(minute));
    // Idle instances beyond the level go once their idle time is up; billed until then.
    alive.sort((a, b) => a.lastUsedAt - b.lastUsedAt);
    const kept: Instance[] = [];
    let surplus = alive.length - level;
    for (const inst of alive) {
      const expiry = Math.max(Math.max(inst.lastUsedAt, inst.readyAt) + idle, inst.heldUntil);
      if (surplus > 0 && inst.busyUntil <= minute && expiry <= minute) {
        retire(inst, expiry);
        surplus--;
      } else kept.push(inst);
    }
    alive = kept;
    while (alive.length < level) alive.push({ createdAt: minute, readyAt: minute + cold, busyUntil: minute, lastUsedAt: minute, heldUntil: minute });
    if (alive.length <= level) for (const inst of alive) inst.heldUntil = minute;

    for (; next < times.length && times[next] < minute + MINUTE; next++) {
      const t = times[next];
      let inst = alive.find((i) => i.readyAt <= t && i.busyUntil <= t);
      if (!inst) {
        // Pending requests make Cloud Run start an instance (if allowed); the request goes to whichever instance can
        // take it first: one freeing up, or the new one once started.
        const started = alive.length < o.maxInstances ? { createdAt: t, readyAt: t + cold, busyUntil: t, lastUsedAt: t, heldUntil: t } : undefined;
        if (started) alive.push(started);
        inst = alive.reduce((best, i) => (Math.max(i.readyAt, i.busyUntil) < Math.max(best.readyAt, best.busyUntil) ? i : best));
      }
      const beginsAt = Math.max(t, inst.readyAt, inst.busyUntil);
      const wasCold = inst.readyAt > t;
      if (wasCold) coldRequests++;
      waits.push((beginsAt - t) / 1000);
      inst.busyUntil = beginsAt + service;
      inst.lastUsedAt = inst.busyUntil;
    }
  }
  // The period ends: whatever still exists is billed to its end.
  for (const inst of alive) retire(inst, end);

  waits.sort((a, b) => a - b);
  const periodDays = (end - start) / 86_400_000;
  const billedInstanceHours = billedMs / 3_600_000;
  return {
    requests: times.length,
    coldRequests,
    coldFraction: coldRequests / times.length,
    waitMeanSeconds: waits.reduce((a, b) => a + b, 0) / waits.length,
    waitP50Seconds: percentile(waits, 50),
    waitP95Seconds: percentile(waits, 95),
    billedInstanceHours,
    monthlyCost: (billedInstanceHours * o.hourlyCost * DAYS_PER_MONTH) / periodDays,
    periodDays,
  };
}
