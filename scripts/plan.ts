/**
 * npm run plan -- --requests FILE [--stack NAME] [--timezone TZ] [--target-cold-fraction F | --monthly-budget USD]
 *                 [--cold-start-seconds S] [--service-seconds S] [--idle-seconds S] [--json OUT] [--svg OUT]
 *
 * Chooses warm windows from a real request log: replays it against scale-to-zero, 24/7, the stack's current
 * windows and candidate windows derived from the log, and prints the cheapest plan that meets the target as a
 * `pulumi config set` line.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { ConfigError, parseStackConfig, type StackConfig } from "../components/config";
import { DEFAULT_PRICES, instanceHourlyCost } from "../components/costModel";
import { binRequests, evaluateWindows, recommend, type PlanInputs, type PlanOutcome } from "../components/planner";
import { parseRequestLog, RequestLogError } from "../components/requestLog";
import { isValidTimeZone } from "../components/warmWindows";
import { svgReport, terminalHeatmap } from "./planReport";
import { readStackConfig } from "./stackFiles";

const USAGE =
  "usage: npm run plan -- --requests FILE [--stack NAME] [--timezone TZ] [--target-cold-fraction F | --monthly-budget USD]\n" +
  "                       [--cold-start-seconds S] [--service-seconds S] [--idle-seconds S] [--json OUT] [--svg OUT]";

class UsageError extends Error {}

function num(name: string, raw: string | undefined, def: number, min: number, max: number): number {
  if (raw === undefined) return def;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max) throw new UsageError(`--${name} must be a number ${min}..${max}, got "${raw}"`);
  return n;
}

function row(o: PlanOutcome): string {
  return `  ${o.name.padEnd(16)} ${`$${o.monthlyCost.toFixed(0)}`.padStart(7)} ${String(o.coldRequests).padStart(6)} ${`${(o.coldFraction * 100).toFixed(1)}%`.padStart(7)} ${`${o.waitP50Seconds.toFixed(0)}s`.padStart(6)} ${`${o.waitP95Seconds.toFixed(0)}s`.padStart(6)}  ${o.warmWindows || "(never warm)"}`;
}

function main(): number {
  const { values } = parseArgs({
    options: {
      requests: { type: "string" },
      stack: { type: "string" },
      timezone: { type: "string" },
      "target-cold-fraction": { type: "string" },
      "monthly-budget": { type: "string" },
      "cold-start-seconds": { type: "string" },
      "service-seconds": { type: "string" },
      "idle-seconds": { type: "string" },
      json: { type: "string" },
      svg: { type: "string" },
      help: { type: "boolean" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (!values.requests) throw new UsageError("--requests is required");
  if (values["target-cold-fraction"] !== undefined && values["monthly-budget"] !== undefined) throw new UsageError("give --target-cold-fraction or --monthly-budget, not both");

  const rootDir = path.resolve(__dirname, "..");
  // The stack's config, when there is one: its current windows, zone, instance shape and prices.
  const stackName = values.stack ?? (fs.existsSync(path.join(rootDir, "Pulumi.prod.yaml")) ? "prod" : undefined);
  let stack: StackConfig | undefined;
  if (stackName) {
    const files = readStackConfig(rootDir, stackName);
    stack = parseStackConfig((k) => files.config[k], { rootDir, isEncrypted: (k) => files.secretKeys.includes(k), presentKeys: files.presentKeys });
  }
  const timeZone = values.timezone ?? stack?.warm.schedule.timeZone ?? "UTC";
  if (!isValidTimeZone(timeZone)) throw new UsageError(`--timezone must be an IANA time zone such as Europe/London, got "${timeZone}"`);

  const log = parseRequestLog(fs.readFileSync(values.requests, "utf8"), values.requests);
  for (const b of log.badRows.slice(0, 10)) console.error(`${values.requests}:${b.line}: skipped: ${b.reason}`);
  if (log.badRows.length > 10) console.error(`${values.requests}: ${log.badRows.length - 10} more bad rows skipped`);

  const shape = stack?.service ?? { cpu: 8, memoryGiB: 32, gpuZonalRedundancy: false, maxInstances: 2, maxColdStartSeconds: 120 };
  const inputs: PlanInputs = {
    times: log.times,
    timeZone,
    sim: {
      serviceSeconds: num("service-seconds", values["service-seconds"], 20, 0.1, 3600),
      idleSeconds: num("idle-seconds", values["idle-seconds"], 900, 0, 86_400),
      coldStartSeconds: num("cold-start-seconds", values["cold-start-seconds"], 120, 0, 3600),
      maxInstances: shape.maxInstances,
      hourlyCost: instanceHourlyCost(shape, stack?.cost.prices ?? { ...DEFAULT_PRICES }),
    },
    schedule: stack ? { warmMinInstances: stack.warm.warmMinInstances, idleMinInstances: 0, leadMinutes: stack.warm.leadMinutes } : { warmMinInstances: 1, idleMinInstances: 0, leadMinutes: 5 },
  };
  const goal: { targetColdFraction: number } | { monthlyBudget: number } = values["monthly-budget"] !== undefined ? { monthlyBudget: num("monthly-budget", values["monthly-budget"], 0, 0, 1e7) } : { targetColdFraction: num("target-cold-fraction", values["target-cold-fraction"], 0.05, 0, 1) };

  const bins = binRequests(log.times, timeZone);
  const strategies: PlanOutcome[] = [evaluateWindows("scale to zero", "", inputs), evaluateWindows("24/7", "daily 00:00-24:00", inputs)];
  if (stack) strategies.push(evaluateWindows(`current (${stackName})`, stack.warm.windowsText, inputs));
  const { recommended, candidates } = recommend(inputs, goal);
  strategies.push(recommended);

  const days = (log.times[log.times.length - 1] - log.times[0]) / 86_400_000;
  console.log(`${log.times.length} requests over ${days.toFixed(1)} days (${log.badRows.length} bad rows skipped); ${inputs.sim.serviceSeconds} s each, ${inputs.sim.coldStartSeconds} s cold start, idle instances kept ${inputs.sim.idleSeconds / 60} min, at most ${inputs.sim.maxInstances} instances, $${inputs.sim.hourlyCost.toFixed(2)} per instance-hour\n`);
  console.log(terminalHeatmap(bins, timeZone));
  console.log(`\n  ${"strategy".padEnd(16)} ${"$/month".padStart(7)} ${"cold".padStart(6)} ${"cold %".padStart(7)} ${"p50".padStart(6)} ${"p95".padStart(6)}  windows`);
  for (const s of strategies) console.log(row(s));
  const goalText = "monthlyBudget" in goal ? `within $${goal.monthlyBudget}/month` : `at most ${(goal.targetColdFraction * 100).toFixed(1)}% cold`;
  const met = "monthlyBudget" in goal ? recommended.monthlyCost <= goal.monthlyBudget : recommended.coldFraction <= goal.targetColdFraction;
  console.log(`\nRecommended (${goalText}${met ? "" : "; no candidate meets it, this is the closest"}):`);
  console.log(`pulumi config set warmstart:warmWindows "${recommended.warmWindows}"`);
  if (stack?.warm.schedule.timeZone !== timeZone) console.log(`pulumi config set warmstart:timezone ${timeZone}`);

  if (values.json) {
    const pick = (s: PlanOutcome) => ({
      name: s.name,
      warmWindows: s.warmWindows,
      monthlyCost: Number(s.monthlyCost.toFixed(2)),
      coldRequests: s.coldRequests,
      coldFraction: Number(s.coldFraction.toFixed(4)),
      waitP50Seconds: s.waitP50Seconds,
      waitP95Seconds: s.waitP95Seconds,
    });
    const doc = { recommended: { warmWindows: recommended.warmWindows, monthlyCost: pick(recommended).monthlyCost, coldFraction: pick(recommended).coldFraction }, strategies: strategies.map(pick) };
    fs.writeFileSync(values.json, JSON.stringify(doc, null, 2) + "\n");
  }
  if (values.svg) fs.writeFileSync(values.svg, svgReport(bins, timeZone, candidates, strategies));
  return 0;
}

try {
  process.exitCode = main();
} catch (err) {
  if (err instanceof UsageError) {
    console.error(`plan: ${err.message}\n${USAGE}`);
    process.exitCode = 2;
  } else if (err instanceof RequestLogError || err instanceof ConfigError) {
    console.error(err.message);
    process.exitCode = 1;
  } else if ((err as NodeJS.ErrnoException).code === "ENOENT") {
    console.error(`plan: ${(err as Error).message}`);
    process.exitCode = 1;
  } else throw err;
}
