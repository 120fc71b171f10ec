/**
 * npm run test:mutation: Stryker over the code whose mistakes cost money or warmth (issue #21), one group at a time,
 * each against only its own test files (stryker.config.mjs, GROUPS), then one table of scores per module. The HTML
 * report of each group lands in reports/mutation/<group>.html. docs/testing.md says when to run it.
 */
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import type { MutantResult } from "@stryker-mutator/api/core";
import { command, numberFlag, runCommand, UsageError } from "../container/cli";

/** What the issue asks of the score: overall, and of the weakest module. */
const OVERALL_MIN = 85;
const MODULE_MIN = 75;

const MUTATION = command({
  name: "test:mutation",
  purpose: "Mutation testing (Stryker) of the schedule, cost model, config, planner, fetch, presign and budget guard code.",
  usage: "npm run test:mutation [-- --group NAME ...] [--concurrency N] [--incremental]",
  about: `Each group of stryker.config.mjs is mutated against only its own test files, one after the other (concurrency 1),
then one table gives killed, survived, timed out and uncovered mutants and the score per module. HTML reports go to
reports/mutation/<group>.html (gitignored). All groups take over two hours on 2 cores (docs/testing.md gives each
group's time): before merging, run the groups of the modules you changed.`,
  flags: {
    group: { type: "string", value: "NAME", multiple: true, defaultText: "every group", help: "run only this group (schedule, cost, config, simulator, planner, fetch, presign, guard); repeatable" },
    concurrency: { type: "string", value: "N", default: "1", help: "test runner processes at once; 2 halves the time on an otherwise idle 2-core machine" },
    incremental: { type: "boolean", help: "reuse reports/mutation/<group>.incremental.json: only mutants whose code or tests changed run again" },
  },
  example: "npm run test:mutation -- --group planner --group config",
  exitCodes: { 0: `every score met (overall ≥ ${OVERALL_MIN}%, each module ≥ ${MODULE_MIN}%)`, 1: "a score below that, or Stryker failed", 2: "usage error" },
});

interface Group {
  readonly mutate: string[];
  readonly testFiles: string[];
  readonly options?: Record<string, unknown>;
}

interface Row {
  readonly module: string;
  killed: number;
  survived: number;
  timeout: number;
  noCoverage: number;
}

/** Stryker's mutation score: detected (killed or timed out) of the valid mutants (errors and ignored ones aside). */
const score = (r: Row) => {
  const valid = r.killed + r.timeout + r.survived + r.noCoverage;
  return valid === 0 ? 100 : (100 * (r.killed + r.timeout)) / valid;
};

function tally(results: readonly MutantResult[], into: Map<string, Row>): void {
  for (const m of results) {
    const module = path.relative(process.cwd(), m.fileName);
    const row = into.get(module) ?? { module, killed: 0, survived: 0, timeout: 0, noCoverage: 0 };
    into.set(module, row);
    if (m.status === "Killed") row.killed++;
    else if (m.status === "Survived") row.survived++;
    else if (m.status === "Timeout") row.timeout++;
    else if (m.status === "NoCoverage") row.noCoverage++;
  }
}

function table(rows: readonly Row[]): string {
  const total: Row = { module: "all", killed: 0, survived: 0, timeout: 0, noCoverage: 0 };
  for (const r of rows) for (const k of ["killed", "survived", "timeout", "noCoverage"] as const) total[k] += r[k];
  const head = ["module", "killed", "survived", "timeout", "no coverage", "score"];
  const line = (r: Row) => [r.module, r.killed, r.survived, r.timeout, r.noCoverage, `${score(r).toFixed(1)}%`].map(String);
  const cells = [head, ...rows.map(line), line(total)];
  const widths = head.map((_, i) => Math.max(...cells.map((c) => c[i].length)));
  const fmt = (c: string[]) => `| ${c.map((v, i) => (i === 0 ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join(" | ")} |`;
  return [fmt(cells[0]), `|${widths.map((w, i) => (i === 0 ? "-".repeat(w + 2) : `${"-".repeat(w + 1)}:`)).join("|")}|`, ...cells.slice(1).map(fmt)].join("\n");
}

async function main(values: { group: string[] | undefined; concurrency: number; incremental: boolean }): Promise<number> {
  const configFile = path.resolve("stryker.config.mjs");
  const { GROUPS } = (await import(pathToFileURL(configFile).href)) as { GROUPS: Record<string, Group> };
  const names = values.group ?? Object.keys(GROUPS);
  for (const n of names) if (!GROUPS[n]) throw new UsageError(`--group ${n}: no such group; the groups are ${Object.keys(GROUPS).join(", ")}`);

  // Stryker is an ES module only; loaded here, after the flags, so that --help stays quick.
  const { Stryker } = await import("@stryker-mutator/core");
  const rows = new Map<string, Row>();
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
    tally(results, rows);
    console.log(`test:mutation: ${name} took ${((Date.now() - t0) / 60_000).toFixed(1)} min`);
  }

  const sorted = [...rows.values()].sort((a, b) => a.module.localeCompare(b.module));
  console.log(`\n${table(sorted)}\n`);
  const all = sorted.reduce((t, r) => ({ ...t, killed: t.killed + r.killed, survived: t.survived + r.survived, timeout: t.timeout + r.timeout, noCoverage: t.noCoverage + r.noCoverage }), { module: "all", killed: 0, survived: 0, timeout: 0, noCoverage: 0 });
  const weak = sorted.filter((r) => score(r) < MODULE_MIN);
  console.log(`test:mutation: ${((Date.now() - started) / 60_000).toFixed(1)} min; reports in reports/mutation/`);
  if (score(all) < OVERALL_MIN || weak.length > 0) {
    console.log(`test:mutation: below the bar (overall ≥ ${OVERALL_MIN}%, each module ≥ ${MODULE_MIN}%)${weak.length ? `: ${weak.map((r) => r.module).join(", ")}` : ""}`);
    return 1;
  }
  return 0;
}

void runCommand(MUTATION, process.argv.slice(2), (v) => main({ group: v.group, concurrency: numberFlag("--concurrency", v.concurrency, 1, 16, { integer: true }), incremental: v.incremental })).then((code) => (process.exitCode = code));
