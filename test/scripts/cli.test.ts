/**
 * Every command-line program behind an npm script, run as npm runs it (tsx, from the repository root): --help says
 * what it does, lists every flag its code declares with a default, gives an example and the exit codes; a mistake
 * on the command line is exit 2 with the usage, never a stack trace. The programs and their flags are read from
 * package.json and the sources, so a new script or flag without help fails here.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import { availableParallelism } from "node:os";
import * as path from "node:path";
import { describe, expect, test } from "vitest";

const ROOT = path.resolve(__dirname, "../..");
const TSX = path.join(ROOT, "node_modules", ".bin", "tsx");
/** Scripts whose command line is tested elsewhere (none now). */
const ELSEWHERE = new Set<string>();

const scripts = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).scripts as Record<string, string>;
const CLIS = Object.entries(scripts).flatMap(([name, command]) => {
  const file = /^tsx (\S+\.ts)$/.exec(command)?.[1];
  return file && !ELSEWHERE.has(name) ? [{ name, file }] : [];
});

/** The flags a source declares: its parseArgs options, `name: { type: "string" | "boolean"`. */
function declaredFlags(file: string): { flag: string; type: string }[] {
  const source = fs.readFileSync(path.join(ROOT, file), "utf8");
  return [...source.matchAll(/["']?([a-z][a-z0-9-]*)["']?\s*:\s*\{\s*type:\s*"(string|boolean)"/g)].map((m) => ({ flag: `--${m[1]}`, type: m[2] }));
}

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function spawnRun(file: string, args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    // The timeout only stops a hung CLI; it is generous, since a loaded 2-core machine starts tsx slowly.
    const child = spawn(TSX, [file, ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"], timeout: 120_000 });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

// Started at load, a few at a time (one per core) and in the order the tests read them: 30 tsx processes at once
// starve each other on 2 cores, while each test waits only for its own.
const slots = Math.max(2, availableParallelism());
let running = 0;
const queue: (() => void)[] = [];
function run(file: string, args: string[]): Promise<Run> {
  return new Promise<void>((go) => (running < slots ? (running++, go()) : queue.push(() => (running++, go())))).then(() =>
    spawnRun(file, args).finally(() => {
      running--;
      queue.shift()?.();
    }),
  );
}

const runs = new Map(CLIS.map((c) => [c.name, { help: run(c.file, ["--help"]), unknown: run(c.file, ["--no-such-flag"]) }]));
const planNoStack = run("scripts/plan.ts", ["--stack", "nope"]);
const fetchNoArgs = run("container/fetcher.ts", []);

const NO_STACK_TRACE = /^\s+at /m;

test("the npm scripts run by tsx are all found", () => {
  const names = CLIS.map((c) => c.name);
  expect(names).toEqual(expect.arrayContaining(["bench:fetch", "bench:planner", "build:container", "fetch-weights", "gen:example-requests", "models:sync", "plan", "reconcile", "replan", "wait-log-metrics"]));
});

describe.each(CLIS)("npm run $name", ({ name, file }) => {
  test("--help: what it does, the usage, every flag with its default, an example, the exit codes", async () => {
    const { status, stdout, stderr } = await runs.get(name)!.help;
    expect([status, stderr]).toEqual([0, ""]);
    const [purpose, blank] = stdout.split("\n");
    expect(purpose, "a one-line purpose first").toMatch(/^[A-Z][^\n]{15,119}[.:]$/);
    expect(blank).toBe("");
    expect(stdout).toMatch(/^Usage: /m);
    expect(stdout).toMatch(/^Example:\n {2}\S/m);
    expect(stdout).toMatch(/^Exit codes:\n {2}0 +\S[\s\S]* 2 +\S/m);
    expect(stdout).toMatch(/^ {2}-h, --help /m);
    for (const { flag, type } of declaredFlags(file)) {
      if (flag === "--help") continue;
      // The flag's entry: its line and the lines wrapped under it.
      const entry = new RegExp(`^ {2}(?:-\\w, )?${flag}\\b.*(?:\\n {6,}.*)*`, "m").exec(stdout)?.[0];
      expect(entry, `${flag} is in the help`).toBeDefined();
      if (type === "string") expect(entry!.replace(/\s+/g, " "), `${flag} says its default`).toMatch(/\((?:default [^)]+|required)\)/);
    }
  });

  test("an unknown flag is a usage error: exit 2, the flag named, the usage, no stack trace", async () => {
    const { status, stdout, stderr } = await runs.get(name)!.unknown;
    expect(status).toBe(2);
    expect(stdout).toBe("");
    expect(stderr.split("\n")[0]).toMatch(/^[a-z:-]+: unknown flag --no-such-flag/);
    expect(stderr).toMatch(/^Usage: /m);
    expect(stderr).not.toMatch(NO_STACK_TRACE);
  });
});

test("plan --stack nope: one line naming the stack and the stacks there are, exit 2", async () => {
  const { status, stderr } = await planNoStack;
  expect(status).toBe(2);
  expect(stderr.trim().split("\n")).toEqual([expect.stringMatching(/^plan: --stack nope: no stack file Pulumi\.nope\.yaml \(stacks here: prod\)/)]);
});

test("fetch-weights without arguments names the missing flag and shows the usage", async () => {
  const { status, stderr } = await fetchNoArgs;
  expect(status).toBe(2);
  expect(stderr).toMatch(/^warmstart-fetch: --manifest is required\n\nUsage: /);
  expect(stderr).not.toMatch(NO_STACK_TRACE);
});
