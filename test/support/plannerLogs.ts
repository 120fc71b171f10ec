/**
 * What the planner's and the simulator's tests share: the simulation options, a Monday to start on, bursty logs, and
 * the planner's inputs for a log.
 */
import { DEFAULT_PRICES } from "../../components/budget/costModel";
import { planClock, type PlanInputs } from "../../planner/recommender";
import type { SimulationOptions } from "../../planner/simulator";

export const OPTS: SimulationOptions = { serviceSeconds: 20, idleSeconds: 900, coldStartSeconds: 120, maxInstances: 2 };
export const T0 = Date.parse("2026-11-02T00:00:00Z"); // a Monday
export const H = 3_600_000;
export const DAY = 24 * H;
export const SCHED = { warmMinInstances: 1, idleMinInstances: 0, leadMinutes: 5 };

/** Bursts of requests at given hours of each day, for `days` days. */
export function burstyLog(days: number, hours: number[], perBurst = 5, gapMs = 36_000, from = T0): number[] {
  const out: number[] = [];
  for (let d = 0; d < days; d++) for (const h of hours) for (let k = 0; k < perBurst; k++) out.push(from + d * DAY + h * H + k * gapMs);
  return out.sort((a, b) => a - b);
}

/** The planner's inputs for a log: these options, SCHED, an 8 vCPU / 32 GiB L4 instance at the default prices. */
export function planInputs(times: number[], timeZone = "UTC", sim: SimulationOptions = OPTS): PlanInputs {
  return { times, timeZone, sim, schedule: SCHED, shape: { cpu: 8, memoryGiB: 32, gpuZonalRedundancy: false }, prices: { ...DEFAULT_PRICES }, clock: planClock(times, timeZone) };
}
