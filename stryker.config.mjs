// Mutation testing (issue #21) of the code whose mistakes cost money or warmth. Not part of `npm test`: run
// `npm run test:mutation` (scripts/mutation.ts), which runs each group below against only its own test files and
// prints one score table. `npx stryker run` alone runs every group at once against every listed test file (slower).
// docs/testing.md says when to run it and records the scores.
//
// Equivalent mutants are marked where they are, in the source, with `// Stryker disable next-line <mutator>: reason`;
// nothing is excluded wholesale here.

import { readFileSync } from "node:fs";

/**
 * `file:from-to`, the lines from the first that contains `first` to the next that contains `last` (the same line when
 * `last` is omitted): a part of a file named by its code, so that an edit above it does not shift the range.
 * @param {string} file
 * @param {string} first
 * @param {string} [last]
 */
function linesOf(file, first, last = first) {
  const lines = readFileSync(new URL(file, import.meta.url), "utf8").split("\n");
  const from = lines.findIndex((l) => l.includes(first));
  const to = from < 0 ? -1 : lines.findIndex((l, i) => i >= from && l.includes(last));
  if (to < 0) throw new Error(`stryker.config.mjs: ${file} has no line with ${JSON.stringify(from < 0 ? first : last)}; update the group's range`);
  return `${file}:${from + 1}-${to + 1}`;
}

/**
 * Each group: what is mutated, and the test files that state its behaviour. `file.ts:from-to` mutates those lines
 * only (the fetcher's verification path, the guard's permission list), found by linesOf.
 * `options` overrides the defaults below for that group.
 * @type {Record<string, { mutate: string[]; testFiles: string[]; options?: import('@stryker-mutator/api/core').PartialStrykerOptions }>}
 */
export const GROUPS = {
  schedule: {
    mutate: ["components/schedule/warmWindows.ts", "components/schedule/warmSchedule.ts", "planner/localMinutes.ts"],
    testFiles: [
      "test/components/schedule/warmWindows.test.ts",
      "test/components/schedule/warmWindowsEdges.test.ts",
      "test/components/schedule/warmSchedule.test.ts",
      "test/planner/localMinutes.test.ts",
    ],
  },
  cost: {
    mutate: ["components/budget/costModel.ts"],
    testFiles: ["test/planner/recommender.test.ts", "test/components/budget/budget.test.ts", "test/components/budget/costModel.test.ts"],
  },
  config: {
    mutate: ["config/keys.ts", "config/parse.ts"],
    testFiles: ["test/config/parse.test.ts", "test/config/keyParsers.test.ts", "test/config/crossChecks.test.ts", "test/config/reference.test.ts"],
  },
  // The simulator against its own quick tests: the planner's recommendation tests run it thousands of times and
  // take seconds each under instrumentation.
  simulator: {
    mutate: ["planner/simulator.ts"],
    testFiles: ["test/planner/simulator.test.ts"],
  },
  planner: {
    mutate: ["planner/recommender.ts"],
    testFiles: ["test/planner/recommender.test.ts", "test/planner/windowSearch.test.ts"],
  },
  fetch: {
    // The fetcher's verification path: what is trusted on disk, the hash before the rename, verifyInPlace.
    mutate: [
      "container/fetchPlan.ts",
      linesOf("container/fetcher.ts", "for (const file of files) {", "jobs.push(new FileJob(file, ctx));"),
      linesOf("container/fetcher.ts", "const finishIfDone = async", "out.rename(job.partialPath, job.finalPath);"),
      linesOf("container/fetcher.ts", "async function verifyInPlace(", "fs.closeSync(fd);"),
    ],
    testFiles: ["test/container/fetchPlan.test.ts", "test/container/fetcher.test.ts"],
  },
  presign: {
    mutate: ["container/presign.ts"],
    testFiles: ["test/container/presign.test.ts"],
  },
  guard: {
    // The handler, its state machine and what it does to the service and jobs, and the custom role's permissions.
    mutate: ["functions/guardHandler.ts", "functions/guardState.ts", "functions/localDay.ts", "functions/enforce.ts", linesOf("components/access/stackIdentities.ts", "export const GUARD_SCHEDULER_PERMISSIONS =")],
    testFiles: ["test/functions/guardHandler.test.ts", "test/functions/guardState.test.ts", "test/functions/guardStateEdges.test.ts", "test/functions/guardMessages.test.ts", "test/functions/enforce.test.ts", "test/functions/guardPermissions.test.ts", "test/components/budget/budget.test.ts"],
    // The role's permission list is a module-level constant: a static mutant, run against every test of the group.
    options: { ignoreStatic: false },
  },
};

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: "vitest",
  plugins: ["@stryker-mutator/vitest-runner"],
  // Pulumi's runtime keeps global state: one test file per process, as in vitest.config.ts. `related: false`: the
  // group's testFiles decide what runs, not vitest's import graph.
  vitest: { configFile: "vitest.mutation.config.ts", related: false, pool: "forks" },
  coverageAnalysis: "perTest",
  // A shared 2-core machine: one sandbox at a time keeps the rest usable and the timings stable.
  concurrency: 1,
  mutate: Object.values(GROUPS).flatMap((g) => g.mutate),
  testFiles: [...new Set(Object.values(GROUPS).flatMap((g) => g.testFiles))],
  // On top of 1.5 × the covering tests' own time: a mutant that loops is cut off within seconds.
  timeoutMS: 5_000,
  // Module-level constants (the price table, the config table) run once per test file; ignoring them here keeps a
  // run short, and they are covered by the tests that read the values.
  ignoreStatic: true,
  reporters: ["html", "json", "clear-text", "progress-append-only"],
  htmlReporter: { fileName: "reports/mutation/index.html" },
  jsonReporter: { fileName: "reports/mutation/mutation.json" },
  tempDirName: ".stryker-tmp",
  cleanTempDir: "always",
  // Only the sources and tests a run needs are copied into the sandbox (node_modules is linked).
  ignorePatterns: ["/reports", "/.synth", "/bin", "/container/dist", "/test/.tmp", "/.whl", "/.gl"],
};
