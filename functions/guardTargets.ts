/**
 * Reads what the guard and the deploy's reconcile step act on from their environment (both get the same values
 * from the stack), naming the variable in every error.
 */
import type { ScheduleEdges } from "../components/schedule/warmWindows";

export function serviceFromEnv(value: string | undefined, variable: string): string {
  const v = value ?? "";
  if (!/^projects\/[^/]+\/locations\/[^/]+\/services\/[^/]+$/.test(v)) throw new Error(`${variable} must be projects/P/locations/R/services/S, got "${v}"`);
  return v;
}

export function jobsFromEnv(value: string | undefined, variable: string): string[] {
  const jobs = (value ?? "").split(",").filter((j) => j !== "");
  for (const j of jobs) if (!/^projects\/[^/]+\/locations\/[^/]+\/jobs\/[^/]+$/.test(j)) throw new Error(`${variable}: "${j}" is not projects/P/locations/R/jobs/J`);
  return jobs;
}

export function scheduleFromEnv(value: string | undefined, variable: string): ScheduleEdges {
  const problem = `${variable} must be the weekly levels as JSON ({timeZone, start, edges})`;
  let s: ScheduleEdges;
  try {
    s = JSON.parse(value ?? "") as ScheduleEdges;
  } catch {
    throw new Error(problem);
  }
  if (typeof s?.timeZone !== "string" || typeof s.start !== "number" || !Array.isArray(s.edges)) throw new Error(problem);
  return s;
}

export function maxInstancesFromEnv(value: string | undefined, variable: string): number {
  const n = Number(value ?? "0");
  if (!Number.isInteger(n) || n < 0) throw new Error(`${variable} must be a whole number, got "${value}"`);
  return n;
}
