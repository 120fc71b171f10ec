/**
 * Replays a request log against a min-instance policy with Cloud Run's semantics, to price a warm-window plan and
 * count the requests it leaves cold. Pure.
 *
 * Model (docs/planner.md says the same for users):
 * - Every request is served for `serviceSeconds` on an instance that serves at most `concurrency` requests at once.
 * - An idle instance is kept `idleSeconds` after its last request and billed while it exists (instance-based
 *   billing). At most `maxInstances` exist. The policy's min instances are raised as its level rises (they start
 *   cold too, which is what the warm lead is for) and kept while the level holds.
 * - Scale-out, by default `on-demand`: a request that finds no ready instance with a free slot makes Cloud Run start
 *   one (while under `maxInstances`), and it is served by whichever instance can take it first, a busy one freeing
 *   up or the new one once started. This is what Cloud Run documents: "Under normal circumstances, your revision
 *   scales out by creating new instances to handle incoming traffic load", and pending requests wait for an instance
 *   that "initiates a scale-out, such as when scaling from zero", or for one that "finishes processing requests"
 *   (https://cloud.google.com/run/docs/about-instance-autoscaling, "Exceeding maximum instances"). The docs do not
 *   say whether Cloud Run holds back a new instance when a busy one will free up sooner than a start would take;
 *   `wait-first` models that other reading (start one only when the wait would be longer than a cold start) and is a
 *   flag of the planner (`--scale-out wait-first`).
 * - A request served by an instance that was still starting when it arrived is cold; it waits the rest of the start.
 * - Not modelled: the metrics-based autoscaler's 60% concurrency target over a minute (it can add an instance early
 *   under sustained load), the 429 a request gets when it pends past Cloud Run's limit at `maxInstances` (the
 *   simulator queues it and reports the wait instead), and CPU-based scaling.
 */

export type ScaleOutRule = "on-demand" | "wait-first";
export const SCALE_OUT_RULES: readonly ScaleOutRule[] = ["on-demand", "wait-first"];

export interface SimulationOptions {
  readonly serviceSeconds: number;
  readonly idleSeconds: number;
  readonly coldStartSeconds: number;
  readonly maxInstances: number;
  /** Requests one instance serves at once (warmstart:concurrency). Default 1. */
  readonly concurrency?: number;
  /** Default `on-demand`, the documented rule. */
  readonly scaleOut?: ScaleOutRule;
}

export interface SimulationResult {
  readonly requests: number;
  readonly coldRequests: number;
  readonly coldFraction: number;
  /** Added wait over all requests, seconds. */
  readonly waitMeanSeconds: number;
  readonly waitP50Seconds: number;
  readonly waitP95Seconds: number;
  /** Instance-hours billed over the replayed period. */
  readonly billedInstanceHours: number;
  /** Instance-hours the policy's floor (min instances) accounts for over the same period. */
  readonly floorInstanceHours: number;
  /** Instances started by requests or prewarms (not by the policy). */
  readonly startsOnDemand: number;
  readonly periodDays: number;
}

interface Instance {
  readonly createdAt: number;
  readyAt: number;
  /** When each of its `concurrency` slots frees up. */
  readonly slots: number[];
  lastUsedAt: number;
  /** End of the last minute for which the policy's level needed this instance: it is billed at least until then. */
  heldUntil: number;
}

const MINUTE = 60_000;

function percentile(sorted: Float64Array, p: number): number {
  // Stryker disable next-line ConditionalExpression: simulate() always has requests (the planner refuses an empty log); kept for a direct caller.
  if (sorted.length === 0) return 0;
  // Stryker disable next-line ArithmeticOperator: the cap matters for p = 100 only; the 50th and 95th are asked for.
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const freeAt = (i: Instance) => Math.min(...i.slots);

/**
 * @param times request instants (epoch ms, sorted)
 * @param levelAt the policy's min instances at an instant (0 everywhere for scale-to-zero); called once a minute
 * @param prewarms instants (sorted) at which a page view asks for an instance: one starts if none exists
 */
export function simulate(times: readonly number[], levelAt: (t: number) => number, o: SimulationOptions, prewarms: readonly number[] = []): SimulationResult {
  const service = o.serviceSeconds * 1000;
  const idle = o.idleSeconds * 1000;
  const cold = o.coldStartSeconds * 1000;
  const slotsPer = Math.max(1, o.concurrency ?? 1);
  const waitFirst = o.scaleOut === "wait-first";
  const first = Math.min(times[0], prewarms.length ? prewarms[0] : Infinity);
  const start = Math.floor(first / MINUTE) * MINUTE;
  // Run on until the last request's instance has gone idle, so its tail is billed like every other.
  const end = Math.ceil((times[times.length - 1] + cold + 10 * service + idle + 1) / MINUTE) * MINUTE;
  const make = (at: number, readyAt: number): Instance => ({ createdAt: at, readyAt, slots: new Array<number>(slotsPer).fill(at), lastUsedAt: at, heldUntil: at });
  // The policy was already in force before the log begins: its instances are warm at the start.
  let alive: Instance[] = Array.from({ length: Math.min(o.maxInstances, levelAt(start)) }, () => make(start, start));
  let billedMs = 0;
  let floorMinutes = 0;
  let coldRequests = 0;
  let startsOnDemand = 0;
  const waits = new Float64Array(times.length);
  let next = 0;
  let nextPrewarm = 0;

  const retire = (inst: Instance, at: number) => (billedMs += Math.max(0, at - inst.createdAt));

  /**
   * Idle instances beyond the level go once their idle time is up; billed until then. Checked at each minute and
   * at each request and prewarm, so that one arriving at or after an instance's expiry never finds it.
   */
  const retireIdle = (at: number, level: number) => {
    // Stryker disable next-line EqualityOperator: at the level exactly there is no surplus, so nothing would retire.
    if (alive.length <= level) return;
    alive.sort((a, b) => a.lastUsedAt - b.lastUsedAt);
    const kept: Instance[] = [];
    let surplus = alive.length - level;
    for (const inst of alive) {
      // Past its expiry an instance is idle too: lastUsedAt is when its last request ends.
      const expiry = Math.max(Math.max(inst.lastUsedAt, inst.readyAt) + idle, inst.heldUntil);
      if (surplus > 0 && expiry <= at) {
        retire(inst, expiry);
        surplus--;
      } else kept.push(inst);
    }
    alive = kept;
  };

  for (let minute = start; minute < end; minute += MINUTE) {
    const level = Math.min(o.maxInstances, levelAt(minute));
    floorMinutes += level;
    retireIdle(minute, level);
    while (alive.length < level) alive.push(make(minute, minute + cold));
    // Needed through this whole minute: a window's instance is billed to the window's end, not its last minute's start.
    if (alive.length <= level) for (const inst of alive) inst.heldUntil = minute + MINUTE;

    // Stryker disable next-line EqualityOperator: past the end the element is undefined and the second test fails.
    for (; nextPrewarm < prewarms.length && prewarms[nextPrewarm] < minute + MINUTE; nextPrewarm++) {
      const p = prewarms[nextPrewarm];
      retireIdle(p, level);
      // A page view's warmup call starts an instance only when there is none: Cloud Run routes it to any that exists.
      if (alive.length === 0) {
        alive.push(make(p, p + cold));
        startsOnDemand++;
      }
    }

    // Stryker disable next-line EqualityOperator: past the end the element is undefined and the second test fails.
    for (; next < times.length && times[next] < minute + MINUTE; next++) {
      const t = times[next];
      retireIdle(t, level);
      let inst = alive.find((i) => i.readyAt <= t && freeAt(i) <= t);
      if (!inst) {
        const soonest = alive.length ? alive.reduce((best, i) => (Math.max(i.readyAt, freeAt(i)) < Math.max(best.readyAt, freeAt(best)) ? i : best)) : undefined;
        const wait = soonest ? Math.max(soonest.readyAt, freeAt(soonest)) - t : Infinity;
        const startOne = alive.length < o.maxInstances && (!waitFirst || wait > cold);
        if (startOne) {
          const started = make(t, t + cold);
          alive.push(started);
          startsOnDemand++;
          inst = !soonest || wait > cold ? started : soonest;
        } else inst = soonest!;
      }
      const slot = inst.slots.indexOf(freeAt(inst));
      const beginsAt = Math.max(t, inst.readyAt, inst.slots[slot]);
      if (inst.readyAt > t) coldRequests++;
      waits[next] = (beginsAt - t) / 1000;
      inst.slots[slot] = beginsAt + service;
      inst.lastUsedAt = Math.max(inst.lastUsedAt, beginsAt + service);
    }
  }
  // The period ends: whatever still exists is billed to its end.
  for (const inst of alive) retire(inst, end);

  // Stryker disable next-line MethodExpression: sorting the waits in place changes nothing read after (the mean is order-free).
  const sorted = waits.slice().sort();
  let waitSum = 0;
  for (const w of waits) waitSum += w;
  return {
    requests: times.length,
    coldRequests,
    coldFraction: coldRequests / times.length,
    waitMeanSeconds: waitSum / times.length,
    waitP50Seconds: percentile(sorted, 50),
    waitP95Seconds: percentile(sorted, 95),
    billedInstanceHours: billedMs / 3_600_000,
    floorInstanceHours: floorMinutes / 60,
    startsOnDemand,
    periodDays: (end - start) / 86_400_000,
  };
}

/** The assumptions behind every simulated figure, one line, printed with each result. */
export function describeSimulation(o: SimulationOptions): string {
  return (
    `simulated: each request ${o.serviceSeconds} s on an instance serving ${o.concurrency ?? 1} at a time, ${o.coldStartSeconds} s cold start, ` +
    `idle instances kept ${o.idleSeconds / 60} min and billed, at most ${o.maxInstances} instances, scale-out ${o.scaleOut ?? "on-demand"}`
  );
}
