/**
 * npm run test:mutation: Stryker over the code whose mistakes cost money or warmth (issue #21), one group at a time,
 * each against only its own test files (stryker.config.mjs, GROUPS), then one table of scores per module. The HTML
 * report of each group lands in reports/mutation/<group>.html. docs/testing.md says when to run it.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { command, numberFlag, runCommand, UsageError } from "../container/cli";
import { MODULE_MIN, OVERALL_MIN, reportMutants, scoreTable, tally, verdict, type ModuleScore, type MutationReport } from "./mutationScores";

const MUTATION = command({
  name: "test:mutation",
  purpose: "Mutation testing (Stryker) of the schedule, cost model, config, planner, fetch, presign and budget guard code.",
  usage: "npm run test:mutation [-- --group NAME ...] [--concurrency N] [--incremental] [--from-reports]",
  about: `Each group of stryker.config.mjs is mutated against only its own test files, one after the other (concurrency 1),
then one table gives killed, survived, timed out and uncovered mutants and the score per module. HTML reports go to
reports/mutation/<group>.html (gitignored). All groups take over two hours on 2 cores (docs/testing.md gives each
group's time): before merging, run the groups of the modules you changed. --from-reports prints the table of the
last run of each group from its JSON report, running nothing: the overall score of runs made one group at a time.`,
  flags: {
    group: { type: "string", value: "NAME", multiple: true, defaultText: "every group", help: "run only this group (schedule, cost, config, simulator, planner, fetch, presign, guard); repeatable" },
    concurrency: { type: "string", value: "N", default: "1", help: "test runner processes at once; 2 halves the time on an otherwise idle 2-core machine" },
    incremental: { type: "boolean", help: "reuse reports/mutation/<group>.incremental.json: only mutants whose code or tests changed run again" },
    "from-reports": { type: "boolean", help: "run nothing: score the last run of each group from reports/mutation/<group>.json, naming files changed since" },
  },
  example: "npm run test:mutation -- --group planner --group config",
  exitCodes: { 0: `every score met (overall ≥ ${OVERALL_MIN}%, each module ≥ ${MODULE_MIN}%)`, 1: "a score below that, or Stryker failed", 2: "usage error" },
});

interface Group {
  readonly mutate: string[];
  readonly testFiles: string[];
  readonly options?: Record<string, unknown>;
}

/** The table and the verdict, from the rows of the groups scored. */
function report(rows: Map<string, ModuleScore>): number {
  const sorted = [...rows.values()].sort((a, b) => a.module.localeCompare(b.module));
  console.log(`\n${scoreTable(sorted)}\n`);
  const v = verdict(sorted);
  if (!v.met) {
    console.log(`test:mutation: below the bar (overall ≥ ${OVERALL_MIN}%, each module ≥ ${MODULE_MIN}%)${v.weak.length ? `: ${v.weak.join(", ")}` : ""}`);
    return 1;
  }
  return 0;
}

/** --from-reports: the last run of each group, as its JSON report recorded it. */
function fromReports(names: readonly string[]): number {
  const rows = new Map<string, ModuleScore>();
  const missing: string[] = [];
  for (const name of names) {
    const file = path.join("reports", "mutation", `${name}.json`);
    if (!fs.existsSync(file)) {
      missing.push(name);
      continue;
    }
    const { mutants, stale } = reportMutants(JSON.parse(fs.readFileSync(file, "utf8")) as MutationReport, (m) => (fs.existsSync(m) ? fs.readFileSync(m, "utf8") : undefined));
    tally(mutants, rows);
    const when = fs.statSync(file).mtime.toISOString().slice(0, 16).replace("T", " ");
    console.log(`test:mutation: ${name}: ${file} (${when} UTC)${stale.length ? `; changed since, run the group again: ${stale.join(", ")}` : ""}`);
  }
  const code = report(rows);
  if (missing.length > 0) {
    console.log(`test:mutation: no report for ${missing.join(", ")}: the table leaves them out (run npm run test:mutation -- ${missing.map((n) => `--group ${n}`).join(" ")})`);
    return 1;
  }
  return code;
}

async function main(values: { group: string[] | undefined; concurrency: number; incremental: boolean; fromReports: boolean }): Promise<number> {
  const configFile = path.resolve("stryker.config.mjs");
  const { GROUPS } = (await import(pathToFileURL(configFile).href)) as { GROUPS: Record<string, Group> };
  // No --group is every group (the flag parser gives an empty list, not undefined).
  const names = values.group && values.group.length > 0 ? values.group : Object.keys(GROUPS);
  for (const n of names) if (!GROUPS[n]) throw new UsageError(`--group ${n}: no such group; the groups are ${Object.keys(GROUPS).join(", ")}`);
  if (values.fromReports) return fromReports(names);

  // Stryker is an ES module only; loaded here, after the flags, so that --help stays quick.
  const { Stryker } = await import("@stryker-mutator/core");
  const rows = new Map<string, ModuleScore>();
  const started = Date.now();
  for (const name of names) {
    const g = GROUPS[name];
    const t0 = Date.now();
    console.log(`test:mutation: ${name} (${g.mutate.join(", ")})`);
    const results = await new Stryker({
      configFile,
      ...g.options,
      concurrency: values.concurrency,
      mutate: g.mutate,
      testFiles: g.testFiles,
      htmlReporter: { fileName: `reports/mutation/${name}.html` },
      jsonReporter: { fileName: `reports/mutation/${name}.json` },
      reporters: ["html", "json", "progress-append-only"],
      incremental: values.incremental,
      incrementalFile: `reports/mutation/${name}.incremental.json`,
    }).runMutationTest();
    tally(results.map((m) => ({ module: path.relative(process.cwd(), m.fileName), status: m.status })), rows);
    console.log(`test:mutation: ${name} took ${((Date.now() - t0) / 60_000).toFixed(1)} min`);
  }
  console.log(`test:mutation: ${((Date.now() - started) / 60_000).toFixed(1)} min; reports in reports/mutation/`);
  return report(rows);
}

void runCommand(MUTATION, process.argv.slice(2), (v) =>
  main({ group: v.group, concurrency: numberFlag("--concurrency", v.concurrency, 1, 16, { integer: true }), incremental: v.incremental, fromReports: v["from-reports"] }),
).then((code) => (process.exitCode = code));
