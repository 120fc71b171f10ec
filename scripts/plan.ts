/**
 * npm run plan: chooses warm windows from a real request log. See USAGE and docs/planner.md.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { ConfigError, parseStackConfig, type StackConfig } from "../components/config";
import { describeTraffic, PRICES_SOURCE } from "../components/costModel";
import { binRequests, DEFAULT_MAX_WINDOWS, evaluateWindows, recommend, warmSpans, type PlanGoal, type PlanOutcome } from "../components/planner";
import { coldArrivals, inFlightPercentile, littleDataWarning, saturationWarning } from "../components/planSanity";
import { describeSimulation, SCALE_OUT_RULES, type ScaleOutRule } from "../components/planSimulator";
import { RequestLogError } from "../components/requestLog";
import { gcloudReadArgs } from "../components/requestLogFilter";
import { timeZoneProblem } from "../components/timeZones";
import { isValidTimeZone, parseWarmWindows, weeklyLevels } from "../components/warmWindows";
import { loadRequestLog, planInputs, simulationOptions, SIM_DEFAULTS, trafficFromLog, type LoadedLog } from "./planInputs";
import { frontierSpec, heatmapSpec, htmlReport, markdownTable, renderSvg, terminalHeatmap, type ReportData } from "./planReport";
import { readStackConfig } from "./stackFiles";

const USAGE = `npm run plan -- (--requests FILE | --from-cloud-logging [--days N]) [options]

Chooses warm windows from a request log: replays it against scale to zero, 24/7, the stack's current windows and
plans of a few simple shapes chosen by cross-validation, and prints the cheapest that meets the target.

  --requests FILE             CSV with a timestamp column, NDJSON or a gcloud JSON array (docs/planner.md)
  --from-cloud-logging        read the service's request log with gcloud logging read (needs the stack's log bucket)
  --days N                    with --from-cloud-logging: how far back (default 90)
  --stack NAME                stack whose windows, zone, shape, limits and prices to use (default prod, if Pulumi.prod.yaml exists)
  --timezone TZ               zone to plan in (default the stack's warmstart:timezone, else UTC)
  --assume-timezone TZ        zone of timestamps written without a UTC offset (otherwise they are an error)
  --target-cold-fraction F    at most this fraction of requests cold (default 0.05)
  --monthly-budget USD        instead: the fewest cold requests within this monthly cost
  --max-windows N             at most N windows in the plan (default ${DEFAULT_MAX_WINDOWS})
  --cold-start-seconds S      time from instance start to warm (default ${SIM_DEFAULTS.coldStartSeconds})
  --service-seconds S         time one request takes (default ${SIM_DEFAULTS.serviceSeconds})
  --idle-seconds S            how long Cloud Run keeps an idle instance (default ${SIM_DEFAULTS.idleSeconds})
  --scale-out RULE            on-demand (Cloud Run's documented rule, default) or wait-first
  --prewarm-seconds N         page view to first request, for the prewarm strategy (default 30)
  --json OUT  --svg OUT  --html OUT  --markdown OUT    write the result, the charts, the report page, the table
  --help

Example: npm run plan -- --requests examples/requests.csv --html plan.html
Exit codes: 0 done; 1 unusable log, config or gcloud failure; 2 usage error.`;

class UsageError extends Error {}

function num(name: string, raw: string | undefined, def: number, min: number, max: number): number {
  if (raw === undefined) return def;
  const n = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(n) || n < min || n > max) throw new UsageError(`--${name} must be a number ${min}..${max}, got "${raw}"; e.g. --${name} ${def}`);
  return n;
}

const pct = (f: number) => `${(f * 100).toFixed(1)}%`;

function row(o: PlanOutcome): string {
  const validated = o.validationColdFraction === undefined ? "" : pct(o.validationColdFraction);
  return `  ${o.name.padEnd(22)} ${`$${o.monthlyCost.toFixed(2)}`.padStart(9)} ${pct(o.coldFraction).padStart(6)} ${validated.padStart(9)} ${`${o.waitP95Seconds.toFixed(0)}s`.padStart(6)} ${String(o.windowCount).padStart(4)} ${String(o.schedulerJobs).padStart(4)}  ${o.warmWindows || "(never warm)"}`;
}

function readCloudLogging(stack: StackConfig, days: number): LoadedLog {
  const args = gcloudReadArgs(stack.service.project, stack.service.name, days, new Date());
  const r = spawnSync("gcloud", args, { encoding: "utf8", maxBuffer: 1 << 30 });
  if (r.error) throw new RequestLogError(`plan: cannot run gcloud (${(r.error as NodeJS.ErrnoException).code}); install the gcloud CLI and log in, or export the log and pass --requests FILE`);
  if (r.status !== 0) throw new RequestLogError(`plan: gcloud logging read failed (exit ${r.status}):\n${r.stderr.trim()}`);
  const label = `cloud-logging:${args.find((a) => a.startsWith("--bucket="))!.slice(9)}`;
  const text = r.stdout.trim() === "" ? "[]" : r.stdout;
  if (text.trim() === "[]") throw new RequestLogError(`${label}: no request in the last ${days} days (is the stack's log bucket deployed? it keeps entries from its creation on)`);
  return loadRequestLog(label, text);
}

async function main(): Promise<number> {
  let values;
  try {
    values = parseArgs({
      options: {
        requests: { type: "string" },
        "from-cloud-logging": { type: "boolean" },
        days: { type: "string" },
        stack: { type: "string" },
        timezone: { type: "string" },
        "assume-timezone": { type: "string" },
        "target-cold-fraction": { type: "string" },
        "monthly-budget": { type: "string" },
        "max-windows": { type: "string" },
        "cold-start-seconds": { type: "string" },
        "service-seconds": { type: "string" },
        "idle-seconds": { type: "string" },
        "scale-out": { type: "string" },
        "prewarm-seconds": { type: "string" },
        json: { type: "string" },
        svg: { type: "string" },
        html: { type: "string" },
        markdown: { type: "string" },
        help: { type: "boolean" },
      },
    }).values;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (!values.requests && !values["from-cloud-logging"]) throw new UsageError("give --requests FILE or --from-cloud-logging");
  if (values.requests && values["from-cloud-logging"]) throw new UsageError("give --requests or --from-cloud-logging, not both");
  if (values["target-cold-fraction"] !== undefined && values["monthly-budget"] !== undefined) throw new UsageError("give --target-cold-fraction or --monthly-budget, not both");
  const scaleOut = (values["scale-out"] ?? "on-demand") as ScaleOutRule;
  if (!SCALE_OUT_RULES.includes(scaleOut)) throw new UsageError(`--scale-out must be ${SCALE_OUT_RULES.join(" or ")}, got "${values["scale-out"]}"`);
  for (const flag of ["timezone", "assume-timezone"] as const) {
    const tz = values[flag];
    const problem = tz === undefined ? undefined : (timeZoneProblem(tz) ?? (isValidTimeZone(tz) ? undefined : "is not known to this Node.js's time zone data: update Node.js"));
    if (problem) throw new UsageError(`--${flag} ${problem}, got "${tz}"`);
  }

  const rootDir = path.resolve(__dirname, "..");
  // The stack's config, when there is one: its current windows, zone, instance shape, limits and prices.
  const stackName = values.stack ?? (fs.existsSync(path.join(rootDir, "Pulumi.prod.yaml")) ? "prod" : undefined);
  let stack: StackConfig | undefined;
  if (stackName) {
    let files;
    try {
      files = readStackConfig(rootDir, stackName);
    } catch (err) {
      throw new UsageError(`--stack ${stackName}: ${(err as Error).message}`);
    }
    stack = parseStackConfig((k) => files.config[k], { rootDir, isEncrypted: (k) => files.secretKeys.includes(k), presentKeys: files.presentKeys });
  }
  if (values["from-cloud-logging"] && !stack) throw new UsageError("--from-cloud-logging needs --stack NAME: the project and service to read");
  const timeZone = values.timezone ?? stack?.warm.schedule.timeZone ?? "UTC";

  const log = values["from-cloud-logging"] ? readCloudLogging(stack!, num("days", values.days, 90, 1, 3650)) : loadRequestLog(values.requests!, undefined, { assumeTimeZone: values["assume-timezone"] });
  for (const b of log.badRows.slice(0, 10)) console.error(`${log.file}:${b.line}: skipped: ${b.reason}`);
  if (log.badRows.length > 10) console.error(`${log.file}: ${log.badRows.length - 10} more bad rows skipped`);

  const sim = simulationOptions(stack, {
    serviceSeconds: num("service-seconds", values["service-seconds"], SIM_DEFAULTS.serviceSeconds, 0.1, 3600),
    idleSeconds: num("idle-seconds", values["idle-seconds"], SIM_DEFAULTS.idleSeconds, 0, 86_400),
    coldStartSeconds: num("cold-start-seconds", values["cold-start-seconds"], SIM_DEFAULTS.coldStartSeconds, 0, 3600),
    scaleOut,
  });
  const inputs = planInputs(stack, log, timeZone, sim);
  const goal: PlanGoal = values["monthly-budget"] !== undefined ? { monthlyBudget: num("monthly-budget", values["monthly-budget"], 300, 0, 1e7) } : { targetColdFraction: num("target-cold-fraction", values["target-cold-fraction"], 0.05, 0, 1) };
  const maxWindows = num("max-windows", values["max-windows"], DEFAULT_MAX_WINDOWS, 1, 50);
  const prewarmSeconds = num("prewarm-seconds", values["prewarm-seconds"], 30, 0, 3600);
  const target = "targetColdFraction" in goal ? goal.targetColdFraction : undefined;

  const days = (log.times[log.times.length - 1] - log.times[0]) / 86_400_000;
  const warnings: string[] = [];
  if (log.outliers > 0) warnings.push(`dropped ${log.outliers} timestamp${log.outliers === 1 ? "" : "s"} far outside the bulk of the log (${new Date(log.times[0]).toISOString().slice(0, 10)} to ${new Date(log.times[log.times.length - 1]).toISOString().slice(0, 10)})`);
  const little = littleDataWarning(log.times.length, days, coldArrivals(log.times, sim.idleSeconds).length, target ?? 0.05);
  if (little) warnings.push(little);

  const strategies: PlanOutcome[] = [evaluateWindows("scale to zero", "", inputs), evaluateWindows("24/7", "daily 00:00-24:00", inputs)];
  const saturated = saturationWarning(strategies[1].waitP95Seconds, sim.coldStartSeconds, sim.maxInstances, sim.concurrency ?? 1, inFlightPercentile(log.times, sim.serviceSeconds, 0.99));
  if (saturated) warnings.push(saturated);
  const current = stack ? evaluateWindows(`current (${stackName})`, stack.warm.windowsText, inputs) : undefined;
  if (current) strategies.push(current);
  const rec = recommend(inputs, goal, maxWindows);
  strategies.push(rec.recommended);
  let prewarmNote: string;
  if (log.sessionStarts.length > 0) {
    const prewarms = log.sessionStarts.map((t) => t - prewarmSeconds * 1000);
    strategies.push(evaluateWindows(`prewarm ${prewarmSeconds}s`, "", inputs, log.times, prewarms));
    strategies.push(evaluateWindows(`recommended + prewarm`, rec.recommended.warmWindows, inputs, log.times, prewarms));
    prewarmNote = `prewarm: ${log.sessionStarts.length} session starts; each page view assumed ${prewarmSeconds} s before its session's first request, starting an instance if none exists (page views that lead to no request are not in the log and not priced)`;
  } else {
    prewarmNote = "prewarm on page view: not priced, the log marks no session starts (a session_start column; docs/planner.md)";
  }

  const traffic = current ? trafficFromLog(current, log) : undefined;
  const notes = [
    `${log.times.length} requests over ${days.toFixed(1)} days from ${log.file} (${log.badRows.length} bad rows skipped), planned in ${timeZone}`,
    describeSimulation(sim),
    `prices: $${rec.recommended.cost.perInstanceHour.toFixed(4)} per instance-hour (${PRICES_SOURCE}); totals include Cloud Scheduler jobs${inputs.requestLog ? ` and the request-log bucket (${inputs.requestLog.retentionDays} days)` : ""}, as synth's do`,
    ...(traffic ? [`outside the windows (current): ${describeTraffic(traffic)}`] : []),
    rec.folds > 0 ? `validated: ${rec.folds}-fold cross-validation over whole weeks${rec.chosen ? `; chosen shape ${rec.chosen.shape}, fitted to ${pct(rec.chosen.internalTarget)} cold` : ""}` : "not validated: the log covers fewer than two weeks, so the fit alone chose the plan",
    prewarmNote,
  ];
  for (const n of notes) console.log(n);
  for (const w of warnings) console.log(`warning: ${w}`);
  console.log("");
  const bins = binRequests(log.times, inputs.clock);
  console.log(terminalHeatmap(bins, timeZone));
  console.log(`\n  ${"strategy".padEnd(22)} ${"$/month".padStart(9)} ${"cold".padStart(6)} ${"validated".padStart(9)} ${"p95".padStart(6)} ${"win".padStart(4)} ${"jobs".padStart(4)}  windows`);
  for (const s of strategies) console.log(row(s));
  const goalText = "monthlyBudget" in goal ? `within $${goal.monthlyBudget}/month` : `at most ${pct(goal.targetColdFraction)} cold`;
  const meets = "monthlyBudget" in goal ? rec.recommended.monthlyCost <= goal.monthlyBudget : (rec.recommended.validationColdFraction ?? rec.recommended.coldFraction) <= goal.targetColdFraction;
  console.log(`\nRecommended (${goalText}${meets ? "" : "; no plan meets it, this is the closest"}; ${rec.recommended.windowCount} windows, ${rec.recommended.schedulerJobs} scheduler jobs):`);
  console.log(`pulumi config set warmstart:warmWindows "${rec.recommended.warmWindows}"`);
  if (stack?.warm.schedule.timeZone !== timeZone) console.log(`pulumi config set warmstart:timezone ${timeZone}`);

  const report: ReportData = {
    title: `warmstart plan${stackName ? ` for stack ${stackName}` : ""}: ${log.times.length} requests over ${days.toFixed(0)} days`,
    timeZone,
    bins,
    windows: [
      { label: "recommended", spans: warmSpans(weeklyLevels(parseWarmWindows(rec.recommended.warmWindows), inputs.schedule)) },
      ...(current ? [{ label: "current", spans: warmSpans(weeklyLevels(parseWarmWindows(current.warmWindows), inputs.schedule)) }] : []),
    ],
    candidates: rec.candidates,
    strategies,
    targetColdFraction: target,
    notes: [...notes, ...warnings.map((w) => `warning: ${w}`)],
  };
  if (values.json) {
    const pick = (s: PlanOutcome) => ({
      name: s.name,
      warmWindows: s.warmWindows,
      monthlyCost: Number(s.monthlyCost.toFixed(2)),
      coldRequests: s.coldRequests,
      coldFraction: Number(s.coldFraction.toFixed(4)),
      validationColdFraction: s.validationColdFraction === undefined ? null : Number(s.validationColdFraction.toFixed(4)),
      waitP50Seconds: s.waitP50Seconds,
      waitP95Seconds: s.waitP95Seconds,
      windows: s.windowCount,
      schedulerJobs: s.schedulerJobs,
    });
    const doc = {
      goal,
      recommended: { ...pick(rec.recommended), timezone: timeZone },
      current: current ? pick(current) : null,
      strategies: strategies.map(pick),
      assumptions: notes,
      warnings,
    };
    fs.writeFileSync(values.json, JSON.stringify(doc, null, 2) + "\n");
  }
  if (values.svg) fs.writeFileSync(values.svg, await renderSvg({ vconcat: [heatmapSpec(report), frontierSpec(report)] }));
  if (values.html) fs.writeFileSync(values.html, await htmlReport(report));
  if (values.markdown) fs.writeFileSync(values.markdown, markdownTable(strategies) + "\n");
  return 0;
}

main().then(
  (code) => (process.exitCode = code),
  (err) => {
    if (err instanceof UsageError) {
      console.error(`plan: ${err.message}\n\n${USAGE}`);
      process.exitCode = 2;
    } else if (err instanceof RequestLogError || err instanceof ConfigError) {
      console.error(err.message);
      process.exitCode = 1;
    } else if ((err as NodeJS.ErrnoException).code === "ENOENT") {
      console.error(`plan: ${(err as Error).message}`);
      process.exitCode = 1;
    } else {
      console.error(err);
      process.exitCode = 1;
    }
  },
);
