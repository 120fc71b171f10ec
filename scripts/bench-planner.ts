/**
 * npm run bench:planner: plans on the first 90 days of generated logs that were not used to build the planner and
 * replays the next 30 days, for each target; prints fit, validated and held-out cold, windows and jobs. The seeds
 * are fresh variants of the two held-out shapes (scripts/exampleRequests.ts); docs/planner.md quotes the result.
 */
import { DEFAULT_PRICES } from "../components/budget/costModel";
import { evaluateWindows, planClock, recommend, type PlanInputs } from "../planner/recommender";
import { command, runCommand } from "../container/cli";
import { generateRequests, HOLDOUT_SHAPE, OFFICE_SHAPE, type LogShape } from "./exampleRequests";

const BENCH_PLANNER = command({
  name: "bench:planner",
  purpose: "Measures the planner on generated logs it was not built on: plans 90 days, replays the next 30.",
  usage: "npm run bench:planner",
  about: `For each of six logs (fresh seeds of the two held-out shapes in scripts/exampleRequests.ts) and each target
(2%, 5%, 10% cold): fit, validated and held-out cold, windows, jobs and cost. docs/planner.md quotes the result.`,
  flags: {},
  example: "npm run bench:planner",
  exitCodes: { 0: "measured (whatever the result)", 1: "it failed", 2: "usage error" },
});

const sim = { serviceSeconds: 20, idleSeconds: 900, coldStartSeconds: 120, maxInstances: 2 };
const pct = (f: number) => `${(f * 100).toFixed(2)}%`;

function main(): number {
  let ok = 0;
  let all = 0;
  for (const [shape, timeZone] of [[HOLDOUT_SHAPE, "Europe/Berlin"], [OFFICE_SHAPE, "America/New_York"]] as [LogShape, string][]) {
    for (const seed of [shape.seed + 101, shape.seed + 202, shape.seed + 303]) {
      const times = generateRequests({ ...shape, seed }).map((r) => r.timestamp);
      const split = times[0] + 90 * 86_400_000;
      const p: PlanInputs = {
        times: times.filter((t) => t < split),
        timeZone,
        sim,
        schedule: { warmMinInstances: 1, idleMinInstances: 0, leadMinutes: 5 },
        shape: { cpu: 8, memoryGiB: 32, gpuZonalRedundancy: false },
        prices: { ...DEFAULT_PRICES },
        clock: planClock(times, timeZone),
      };
      for (const target of [0.02, 0.05, 0.1]) {
        const r = recommend(p, { targetColdFraction: target });
        const held = evaluateWindows("next 30 days", r.recommended.warmWindows, { ...p, times: times.filter((t) => t >= split) });
        const within = held.coldFraction <= target + 0.005;
        ok += within ? 1 : 0;
        all++;
        console.log(
          `${timeZone.padEnd(16)} seed ${seed} target ${pct(target).padStart(6)}: fit ${pct(r.recommended.coldFraction)}, validated ${pct(r.recommended.validationColdFraction ?? NaN)}, ` +
            `held out ${pct(held.coldFraction)}${within ? "" : " (MISS)"}, ${r.recommended.windowCount} windows, ${r.recommended.schedulerJobs} jobs, $${r.recommended.monthlyCost.toFixed(0)}/month`,
        );
      }
    }
  }
  console.log(`${ok} of ${all} within half a point of the target next month`);
  return 0;
}

void runCommand(BENCH_PLANNER, process.argv.slice(2), main).then((code) => (process.exitCode = code));
