/**
 * npm run plan: chooses warm windows from a real request log. See PLAN (its --help) and docs/planner.md.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import type { StackConfig } from "../config/types";
import { describeTraffic, PRICES_SOURCE } from "../components/budget/costModel";
import { binRequests, DEFAULT_MAX_WINDOWS, evaluateWindows, recommend, warmSpans, type PlanGoal, type PlanOutcome } from "../planner/recommender";
import { coldArrivals, inFlightPercentile, littleDataWarning, saturationWarning } from "../planner/planSanity";
import { describeSimulation, SCALE_OUT_RULES, type ScaleOutRule } from "../planner/simulator";
import { RequestLogError } from "../planner/requestLog";
import { gcloudReadArgs } from "../components/logging/requestLogFilter";
import { timeZoneProblem } from "../components/schedule/timeZones";
import { isValidTimeZone, parseWarmWindows, weeklyLevels } from "../components/schedule/warmWindows";
import { loadRequestLog, planInputs, simulationOptions, SIM_DEFAULTS, trafficFromLog, type LoadedLog } from "../planner/inputs";
import { missingStackMessage } from "./missingStack";
import { frontierSpec, heatmapSpec, htmlReport, markdownTable, renderSvg, terminalHeatmap, type ReportData } from "../planner/report";
import { command, numberFlag, readFlagFile, runCommand, UsageError, writeFlagFile, type Values } from "../container/cli";
import { CommandError } from "../container/commandError";

/** The cold target when neither --target-cold-fraction nor --monthly-budget is given. */
const DEFAULT_TARGET = 0.05;

const PLAN = command({
  name: "plan",
  purpose: "Chooses warm windows (warmstart:warmWindows) from a request log: the cheapest that meets a cold target.",
  usage: "npm run plan -- (--requests FILE | --from-cloud-logging [--days N]) [options]",
  about: `Replays the log against scale to zero, 24/7, the stack's current windows and plans of a few simple shapes chosen
by cross-validation, and prints the cheapest that meets the target, with the \`pulumi config set\` to apply it.
docs/planner.md says what the simulator assumes and how to read the report.`,
  flags: {
    requests: { type: "string", value: "FILE", defaultText: "none", help: "the request log: CSV with a timestamp column, NDJSON or a gcloud JSON array (docs/planner.md); this or --from-cloud-logging" },
    "from-cloud-logging": { type: "boolean", help: "read the service's request log with gcloud logging read (needs --stack and the stack's log bucket)" },
    days: { type: "string", value: "N", default: "90", help: "with --from-cloud-logging: how many days back" },
    stack: { type: "string", value: "NAME", defaultText: "prod, if Pulumi.prod.yaml exists", help: "stack whose windows, zone, shape, limits and prices to use" },
    timezone: { type: "string", value: "TZ", defaultText: "the stack's warmstart:timezone, else UTC", help: "zone to plan in" },
    "assume-timezone": { type: "string", value: "TZ", defaultText: "none: such timestamps are an error", help: "zone of timestamps written without a UTC offset" },
    "target-cold-fraction": { type: "string", value: "F", defaultText: String(DEFAULT_TARGET), help: "at most this fraction of requests cold, 0..1" },
    "monthly-budget": { type: "string", value: "USD", defaultText: "none", help: "instead of a cold target: the fewest cold requests within this monthly cost" },
    "max-windows": { type: "string", value: "N", default: String(DEFAULT_MAX_WINDOWS), help: "at most N windows in the plan, 1..50" },
    "cold-start-seconds": { type: "string", value: "S", default: String(SIM_DEFAULTS.coldStartSeconds), help: "time from instance start to warm" },
    "service-seconds": { type: "string", value: "S", default: String(SIM_DEFAULTS.serviceSeconds), help: "time one request takes" },
    "idle-seconds": { type: "string", value: "S", default: String(SIM_DEFAULTS.idleSeconds), help: "how long Cloud Run keeps an idle instance" },
    "scale-out": { type: "string", value: "RULE", default: SIM_DEFAULTS.scaleOut, help: `when Cloud Run starts another instance: ${SCALE_OUT_RULES.join(" or ")}; on-demand is its documented rule` },
    "prewarm-seconds": { type: "string", value: "N", default: "30", help: "page view to first request, for the prewarm strategy" },
    json: { type: "string", value: "OUT", defaultText: "not written", help: "write the result as JSON, which npm run replan reads" },
    svg: { type: "string", value: "OUT", defaultText: "not written", help: "write the charts as SVG" },
    html: { type: "string", value: "OUT", defaultText: "not written", help: "write the report page" },
    markdown: { type: "string", value: "OUT", defaultText: "not written", help: "write the comparison table as Markdown" },
  },
  example: "npm run plan -- --requests examples/requests.csv --html plan.html",
  exitCodes: {
    0: "done",
    1: "an unusable log or stack config, a gcloud failure, or an output that cannot be written",
    2: "usage error: a flag, or a stack that does not exist",
  },
});

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


async function main(values: Values<typeof PLAN.flags>): Promise<number> {
  const rootDir = path.resolve(__dirname, "..");
  if (values.stack !== undefined && !fs.existsSync(path.join(rootDir, `Pulumi.${values.stack}.yaml`))) {
    throw new CommandError(`--stack ${values.stack}: ${missingStackMessage(rootDir, values.stack)}`, 2);
  }
  if (!values.requests && !values["from-cloud-logging"]) throw new UsageError("give --requests FILE or --from-cloud-logging");
  if (values.requests && values["from-cloud-logging"]) throw new UsageError("give --requests or --from-cloud-logging, not both");
  if (values["target-cold-fraction"] !== undefined && values["monthly-budget"] !== undefined) throw new UsageError("give --target-cold-fraction or --monthly-budget, not both");
  const scaleOut = values["scale-out"] as ScaleOutRule;
  if (!SCALE_OUT_RULES.includes(scaleOut)) throw new UsageError(`--scale-out must be ${SCALE_OUT_RULES.join(" or ")}, got "${values["scale-out"]}"`);
  for (const flag of ["timezone", "assume-timezone"] as const) {
    const tz = values[flag];
    const problem = tz === undefined ? undefined : (timeZoneProblem(tz) ?? (isValidTimeZone(tz) ? undefined : "is not known to this Node.js's time zone data: update Node.js"));
    if (problem) throw new UsageError(`--${flag} ${problem}, got "${tz}"`);
  }
  const days = numberFlag("days", values.days, 1, 3650);
  const serviceSeconds = numberFlag("service-seconds", values["service-seconds"], 0.1, 3600);
  const idleSeconds = numberFlag("idle-seconds", values["idle-seconds"], 0, 86_400);
  const coldStartSeconds = numberFlag("cold-start-seconds", values["cold-start-seconds"], 0, 3600);
  const goal: PlanGoal =
    values["monthly-budget"] !== undefined
      ? { monthlyBudget: numberFlag("monthly-budget", values["monthly-budget"], 0, 1e7) }
      : { targetColdFraction: numberFlag("target-cold-fraction", values["target-cold-fraction"] ?? String(DEFAULT_TARGET), 0, 1) };
  const maxWindows = numberFlag("max-windows", values["max-windows"], 1, 50, { integer: true });
  const prewarmSeconds = numberFlag("prewarm-seconds", values["prewarm-seconds"], 0, 3600);

  // The stack's config, when there is one: its current windows, zone, instance shape, limits and prices.
  const stackName = values.stack ?? (fs.existsSync(path.join(rootDir, "Pulumi.prod.yaml")) ? "prod" : undefined);
  let stack: StackConfig | undefined;
  if (stackName) {
    // Loaded here, not above: the config module brings the Pulumi SDK, a second of start-up that --help and a
    // usage error need not wait for.
    const { ConfigError, parseStackConfig } = await import("../config/parse.js");
    const { readStackConfig } = await import("./stackFiles.js");
    let files;
    try {
      files = readStackConfig(rootDir, stackName);
    } catch (err) {
      throw new CommandError(`--stack ${stackName}: ${(err as Error).message}`, 1);
    }
    try {
      stack = parseStackConfig((k) => files.config[k], { rootDir, isEncrypted: (k) => files.secretKeys.includes(k), presentKeys: files.presentKeys });
    } catch (err) {
      throw err instanceof ConfigError ? new CommandError(err.message, 1) : err;
    }
  }
  if (values["from-cloud-logging"] && !stack) throw new UsageError("--from-cloud-logging needs --stack NAME: the project and service to read");
  const timeZone = values.timezone ?? stack?.warm.schedule.timeZone ?? "UTC";

  const log = values["from-cloud-logging"] ? readCloudLogging(stack!, days) : loadRequestLog(values.requests!, readFlagFile("--requests", values.requests!, 1), { assumeTimeZone: values["assume-timezone"] });
  for (const b of log.badRows.slice(0, 10)) console.error(`${log.file}:${b.line}: skipped: ${b.reason}`);
  if (log.badRows.length > 10) console.error(`${log.file}: ${log.badRows.length - 10} more bad rows skipped`);

  const sim = simulationOptions(stack, { serviceSeconds, idleSeconds, coldStartSeconds, scaleOut });
  const inputs = planInputs(stack, log, timeZone, sim);
  const target = "targetColdFraction" in goal ? goal.targetColdFraction : undefined;

  const logDays = (log.times[log.times.length - 1] - log.times[0]) / 86_400_000;
  const warnings: string[] = [];
  if (log.outliers > 0) warnings.push(`dropped ${log.outliers} timestamp${log.outliers === 1 ? "" : "s"} far outside the bulk of the log (${new Date(log.times[0]).toISOString().slice(0, 10)} to ${new Date(log.times[log.times.length - 1]).toISOString().slice(0, 10)})`);
  const little = littleDataWarning(log.times.length, logDays, coldArrivals(log.times, sim.idleSeconds).length, target ?? DEFAULT_TARGET);
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
    `${log.times.length} requests over ${logDays.toFixed(1)} days from ${log.file} (${log.badRows.length} bad rows skipped), planned in ${timeZone}`,
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
    title: `warmstart plan${stackName ? ` for stack ${stackName}` : ""}: ${log.times.length} requests over ${logDays.toFixed(0)} days`,
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
    writeFlagFile("--json", values.json, JSON.stringify(doc, null, 2) + "\n");
  }
  if (values.svg) writeFlagFile("--svg", values.svg, await renderSvg({ vconcat: [heatmapSpec(report), frontierSpec(report)] }));
  if (values.html) writeFlagFile("--html", values.html, await htmlReport(report));
  if (values.markdown) writeFlagFile("--markdown", values.markdown, markdownTable(strategies) + "\n");
  return 0;
}

void runCommand(PLAN, process.argv.slice(2), main, { userErrors: [RequestLogError] }).then((code) => (process.exitCode = code));
