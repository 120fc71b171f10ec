/**
 * npm run synth -- [--stack NAME] [--config-file FILE] [--json FILE] [--diff OLD.json] [--now ISO] [--requests FILE]
 *
 * Shows what a stack would create, offline and without credentials: the program runs under Pulumi's mocks with
 * the config the CLI would give it (Pulumi.yaml defaults overlaid by Pulumi.<name>.yaml; secrets replaced by a
 * placeholder). Exit 1 with the configuration error alone when the config is invalid, also when a secret key holds a
 * plain-text value (pulumi up refuses it the same way); exit 1 too when two resources would have one URN, which the
 * engine refuses. With --requests, the traffic outside the windows is measured by replaying a request log with the
 * planner's simulator instead of taken from warmstart:offWindowInstanceHoursPerDay: then synth and `npm run plan`
 * print the same monthly cost for the stack's windows (planner/inputs.ts).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { command, readFlagFile, runCommand, UsageError, type Values } from "../container/cli";
import { CommandError } from "../container/commandError";
import { ConfigError, parseStackConfig } from "../config/parse";
import type { StackConfig } from "../config/types";
import { ASSUMED_REQUESTS_PER_DAY, monthlyCost } from "../components/budget/costModel";
import { RequestLogError } from "../planner/requestLog";
import { warmInstanceHoursPerWeek } from "../components/schedule/warmWindows";
import { DuplicateUrnError, runOffline } from "./offline";
import { readProjectFile, readStackConfig } from "./stackFiles";
import { loadRequestLog, planInputs, priceStackWindows, simulationOptions, trafficFromLog } from "../planner/inputs";
import { diffPlans, parsePlanFile, PlanFileError, renderDiff, type PlanFile } from "./synthDiff";
import { renderReport, type SynthCost } from "./synthReport";

/** The stack synth and plan read when none is named. */
const DEFAULT_STACK = "prod";

const SYNTH = command({
  name: "synth",
  purpose: "Shows what a stack would create and cost, offline: no credentials, nothing deployed.",
  usage: "npm run synth -- [--stack NAME] [options]",
  flags: {
    stack: { type: "string", value: "NAME", default: DEFAULT_STACK, help: "the stack to read, Pulumi.NAME.yaml; npm run plan has the same default" },
    "config-file": { type: "string", value: "FILE", defaultText: "Pulumi.NAME.yaml", help: "read FILE instead, as pulumi --config-file does (e.g. examples/stacks/Pulumi.pyserver.yaml)" },
    json: { type: "string", value: "FILE", defaultText: "none", help: "also write every resource (urn, type, name, parent, dependencies, inputs) and the outputs as JSON" },
    diff: { type: "string", value: "OLD.json", defaultText: "none", help: "show what changed against an earlier --json, or a `pulumi stack export --file` of the deployed stack" },
    now: { type: "string", value: "ISO-8601", defaultText: "the current time", help: "deploy as if at this instant, e.g. 2026-11-27T19:00:00Z (the min instances in force at deploy time depend on it)" },
    requests: { type: "string", value: "FILE", defaultText: "none: warmstart:offWindowInstanceHoursPerDay", help: "price the traffic outside the windows from a request log, as npm run plan does" },
  },
  env: { COLUMNS: "the width to wrap at when the output is not a terminal (default 100)" },
  example: "npm run synth -- --stack prod --json before.json; pulumi config set warmstart:warmWindows \"weekdays 08:00-20:00\"; npm run synth -- --diff before.json",
  exitCodes: { 0: "the plan was printed", 1: "the stack's configuration (or the program) is invalid: the error names every key", 2: "usage error: a flag, or a stack without a file" },
});

/** The stack's monthly cost: from its config's assumption, or with the off-window traffic measured from a log. */
function stackCost(config: StackConfig, requests: string | undefined): SynthCost {
  const schedule = config.warm.schedule;
  const schedulerJobs = schedule.jobs.length + schedule.warmups.length;
  const retentionDays = config.cost.requestLogRetentionDays;
  if (requests) {
    const log = loadRequestLog(requests);
    const inputs = planInputs(config, log, schedule.timeZone, simulationOptions(config));
    const current = priceStackWindows(config, inputs);
    return { estimate: current.cost, traffic: trafficFromLog(current, log), schedulerJobs, requestLog: inputs.requestLog ? { ...inputs.requestLog, measured: true } : undefined };
  }
  const requestLog = retentionDays > 0 ? { retentionDays, requestsPerDay: ASSUMED_REQUESTS_PER_DAY } : undefined;
  const estimate = monthlyCost({
    shape: config.service,
    prices: config.cost.prices,
    warmInstanceHoursPerWeek: warmInstanceHoursPerWeek(schedule.levels),
    offWindowInstanceHoursPerDay: config.cost.offWindowInstanceHoursPerDay,
    schedulerJobs,
    requestLog,
  });
  return { estimate, traffic: { source: "config", instanceHoursPerDay: config.cost.offWindowInstanceHoursPerDay }, schedulerJobs, requestLog: requestLog && { ...requestLog, measured: false } };
}

async function main(args: Values<typeof SYNTH.flags>): Promise<number> {
  const stack = args.stack;
  if (args.now !== undefined && (!/^\d{4}-\d{2}-\d{2}T/.test(args.now) || Number.isNaN(Date.parse(args.now)))) {
    throw new UsageError(`--now must be an ISO 8601 instant such as 2026-11-23T15:00:00Z, got ${JSON.stringify(args.now)}`);
  }
  const rootDir = path.resolve(__dirname, "..");
  let files;
  try {
    files = readStackConfig(rootDir, stack, args["config-file"]);
  } catch (err) {
    throw new CommandError((err as Error).message, 2);
  }
  let before: PlanFile | undefined;
  if (args.diff) {
    try {
      before = parsePlanFile(readFlagFile("--diff", args.diff), args.diff);
    } catch (err) {
      if (err instanceof PlanFileError) throw new CommandError(`--diff ${err.message}`, 2);
      throw err;
    }
  }
  const raw = (key: string) => files.config[key];
  try {
    // Parsed here too, for the schedule table; the program parses the same values itself.
    const config = parseStackConfig(raw, { rootDir, isEncrypted: (key) => files.secretKeys.includes(key), presentKeys: files.presentKeys });
    const run = await runOffline({
      project: readProjectFile(rootDir).name,
      stack,
      config: files.config,
      secretKeys: files.secretKeys,
      now: args.now,
      importProgram: () => import(path.join(rootDir, "index.ts")),
    });
    const diff = before && renderDiff(diffPlans(before, run.resources), args.diff!);
    // The terminal's width; 100 columns when the output is piped.
    const width = process.stdout.isTTY ? process.stdout.columns : Number(process.env.COLUMNS) || 100;
    console.log(renderReport(run, config, stack, stackCost(config, args.requests), { width, diff }));
    if (args.json) {
      const doc = {
        // dependencies: what the engine would create first (dependsOn and every resource an input came from).
        resources: run.resources.map((r) => ({ urn: r.urn, type: r.type, name: r.name, parent: r.parent ?? null, dependencies: r.dependencies, inputs: r.inputs })),
        outputs: run.outputs,
      };
      fs.writeFileSync(args.json, JSON.stringify(doc, null, 2) + "\n");
    }
    return 0;
  } catch (err) {
    if (err instanceof ConfigError || err instanceof DuplicateUrnError || err instanceof RequestLogError) {
      console.error(err.message);
      return 1;
    }
    throw err;
  }
}

void runCommand(SYNTH, process.argv.slice(2), main).then((code) => process.exit(code));
