import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, test } from "vitest";
import { DEFAULT_PRICES } from "../../components/budget/costModel";
import { evaluateWindows, planClock, recommend, type PlanInputs } from "../../planner/recommender";
import { parseWarmWindows } from "../../components/schedule/warmWindows";
import { generateRequests, HOLDOUT_SHAPE, OFFICE_SHAPE, TEAM_SHAPE, toCsv, type LogShape } from "../../scripts/exampleRequests";

const ROOT = path.resolve(__dirname, "../..");
const TSX = path.join(ROOT, "node_modules", ".bin", "tsx");
/** The test run's output directory: the report and its screenshot stay there to be looked at. */
const OUT = path.join(ROOT, "test", ".tmp", "plan");
fs.mkdirSync(OUT, { recursive: true });
const run = (script: string, args: string[], env: NodeJS.ProcessEnv = process.env) => spawnSync(TSX, [script, ...args], { cwd: ROOT, encoding: "utf8", env });
const plan = (...args: string[]) => run("scripts/plan.ts", args);
const out = (f: string) => path.join(OUT, f);

describe("npm run plan on the example log", () => {
  const r = plan("--requests", "examples/requests.csv", "--json", out("plan.json"), "--svg", out("plan.svg"), "--html", out("plan.html"), "--markdown", out("plan.md"));

  test("prints its assumptions, the table and a pulumi config set line whose windows parse", () => {
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^5904 requests over 89\.3 days from examples\/requests\.csv/);
    expect(r.stdout).toMatch(/simulated: each request 20 s .* scale-out on-demand/);
    expect(r.stdout).toMatch(/validated: 4-fold cross-validation over whole weeks/);
    expect(r.stdout).toMatch(/prewarm on page view: not priced, the log marks no session starts/);
    const line = r.stdout.split("\n").find((l) => l.startsWith("pulumi config set warmstart:warmWindows "))!;
    expect(() => parseWarmWindows(/"(.*)"/.exec(line)![1])).not.toThrow();
  });

  test("writes JSON with the recommendation, its validation and job count, and every strategy", () => {
    const doc = JSON.parse(fs.readFileSync(out("plan.json"), "utf8"));
    expect(doc.recommended.validationColdFraction).toBeLessThanOrEqual(0.05);
    expect(doc.recommended.windows).toBeLessThanOrEqual(7);
    expect(doc.recommended.schedulerJobs).toBeGreaterThan(0);
    expect(doc.strategies.map((s: any) => s.name)).toEqual(["scale to zero", "24/7", "current (prod)", "recommended"]);
    const [zero, always] = doc.strategies;
    expect(doc.recommended.monthlyCost).toBeLessThan(always.monthlyCost);
    expect(doc.recommended.coldFraction).toBeLessThan(zero.coldFraction);
  });

  test("the SVG and the Markdown table are written", () => {
    expect(fs.readFileSync(out("plan.svg"), "utf8")).toMatch(/^<svg/);
    expect(fs.readFileSync(out("plan.md"), "utf8")).toMatch(/^\| strategy \| \$\/month \| cold \| validated cold/);
  });

  test("a budget picks the fewest cold requests within it", () => {
    const b = plan("--requests", "examples/requests.csv", "--monthly-budget", "300", "--json", out("b.json"));
    expect(b.status, b.stderr).toBe(0);
    expect(JSON.parse(fs.readFileSync(out("b.json"), "utf8")).recommended.monthlyCost).toBeLessThanOrEqual(330);
  });
});

test("synth and plan print the same monthly cost for the same windows and the same traffic (#18)", () => {
  const synth = run("scripts/synth.ts", ["--stack", "prod", "--requests", "examples/requests.csv"]);
  expect(synth.status, synth.stderr).toBe(0);
  // synth wraps its lines at 100 columns: read them unwrapped.
  const unwrap = (text: string) => text.replace(/\n +/g, " ");
  const synthTotal = /Monthly cost estimate: \$(\d+\.\d\d)/.exec(synth.stdout)![1];
  expect(unwrap(synth.stdout)).toMatch(/measured by replaying examples\/requests\.csv \(5904 requests over 89\.3 days\) with the planner's simulator/);
  const p = plan("--requests", "examples/requests.csv", "--stack", "prod");
  const current = p.stdout.split("\n").find((l) => l.trimStart().startsWith("current (prod)"))!;
  expect(current).toContain(`$${synthTotal}`);
  // Without a log, synth says what it assumed instead.
  expect(unwrap(run("scripts/synth.ts", ["--stack", "prod"]).stdout)).toMatch(/1 instance-hours a day assumed \(warmstart:offWindowInstanceHoursPerDay; measure it from a request log with --requests FILE\)/);
});

describe("the report in a real browser", () => {
  test("headless chromium loads the page and shows both charts, the windows and the table (screenshot in test/.tmp/plan/)", () => {
    const chromium = ["chromium", "chromium-browser", "google-chrome"].find((c) => spawnSync("which", [c]).status === 0);
    if (!chromium) throw new Error("chromium is not installed: apt-get install chromium (.ci/run installs it); this test does not skip");
    const html = out("plan.html");
    expect(fs.existsSync(html)).toBe(true);
    const flags = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"];
    const dom = spawnSync(chromium, [...flags, "--dump-dom", `file://${html}`], { encoding: "utf8", timeout: 60_000 });
    expect(dom.status, dom.stderr).toBe(0);
    expect(dom.stdout).toContain("Requests by weekday and hour (America/Chicago), warm windows outlined");
    expect(dom.stdout).toContain("Monthly cost vs requests cold");
    expect(dom.stdout).toMatch(/recommended: \$\d+\/mo, \d+\.\d% cold \(\d+\.\d% validated\)/);
    expect(dom.stdout).toMatch(/target 5\.0%/);
    expect((dom.stdout.match(/<svg/g) ?? []).length).toBeGreaterThanOrEqual(2);
    expect(dom.stdout).toMatch(/<table id="strategies">[\s\S]*current \(prod\)[\s\S]*recommended/);
    const png = out("plan-report.png");
    fs.rmSync(png, { force: true });
    const shot = spawnSync(chromium, [...flags, `--screenshot=${png}`, "--window-size=1150,1300", `file://${html}`], { encoding: "utf8", timeout: 60_000 });
    expect(shot.status, shot.stderr).toBe(0);
    const bytes = fs.readFileSync(png);
    expect(bytes.subarray(1, 4).toString()).toBe("PNG");
    expect(bytes.length).toBeGreaterThan(30_000);
  });
});

/**
 * Acceptance (#20): plan on the first 90 days of a log not used for tuning, judge on the next 30 days with the
 * simulator. The figures are printed for the record.
 */
describe.each([
  ["evenings and weekends in Berlin", HOLDOUT_SHAPE, "Europe/Berlin"],
  ["office hours in New York (DST)", OFFICE_SHAPE, "America/New_York"],
] as [string, LogShape, string][])("held out: %s", (_, shape, timeZone) => {
  const all = generateRequests(shape).map((r) => r.timestamp);
  const split = all[0] + 90 * 86_400_000;
  const train = all.filter((t) => t < split);
  const next = all.filter((t) => t >= split);
  const p: PlanInputs = {
    times: train,
    timeZone,
    sim: { serviceSeconds: 20, idleSeconds: 900, coldStartSeconds: 120, maxInstances: 2 },
    schedule: { warmMinInstances: 1, idleMinInstances: 0, leadMinutes: 5 },
    shape: { cpu: 8, memoryGiB: 32, gpuZonalRedundancy: false },
    prices: { ...DEFAULT_PRICES },
    clock: planClock(all, timeZone),
  };
  test.each([0.02, 0.05, 0.1])("target %s: next month's cold within 0.5 points of the target, at most 7 windows", (target) => {
    const r = recommend(p, { targetColdFraction: target });
    const held = evaluateWindows("next 30 days", r.recommended.warmWindows, { ...p, times: next });
    console.log(
      `${shape.seed} ${timeZone} target ${(target * 100).toFixed(0)}%: fit ${(r.recommended.coldFraction * 100).toFixed(2)}%, validated ${((r.recommended.validationColdFraction ?? NaN) * 100).toFixed(2)}%, ` +
        `held out ${(held.coldFraction * 100).toFixed(2)}%, $${r.recommended.monthlyCost.toFixed(0)}/month, ${r.recommended.windowCount} windows, ${r.recommended.schedulerJobs} jobs: ${r.recommended.warmWindows}`,
    );
    expect(held.coldFraction).toBeLessThanOrEqual(target + 0.005);
    expect(r.recommended.windowCount).toBeLessThanOrEqual(7);
  });
});

test("60k requests plan in a few seconds (run time bounded by the log's span; a row in 1970 and one in 9999 are dropped)", () => {
  const big = generateRequests({ ...TEAM_SHAPE, seed: 11, burstsPerDay: 45 });
  const rows = [{ timestamp: 0, user: "x" }, ...big, { timestamp: Date.parse("9999-01-01T00:00:00Z"), user: "y" }];
  fs.writeFileSync(out("big.csv"), toCsv(rows));
  const t0 = Date.now();
  const r = plan("--requests", out("big.csv"), "--stack", "prod");
  const seconds = (Date.now() - t0) / 1000;
  console.log(`${big.length} requests planned in ${seconds.toFixed(1)} s`);
  expect(r.status, r.stderr).toBe(0);
  expect(big.length).toBeGreaterThan(55_000);
  expect(r.stdout).toMatch(/warning: dropped 2 timestamps far outside the bulk of the log/);
  expect(seconds).toBeLessThan(30);
});

describe("bad input", () => {
  test("usage errors exit 2 with the usage; unusable logs exit 1 naming the file, never a stack trace", () => {
    const none = plan();
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/give --requests FILE or --from-cloud-logging\n\nUsage: npm run plan -- /);
    expect(plan("--requests", "examples/requests.csv", "--monthly-budget", "1", "--target-cold-fraction", "0.1").stderr).toMatch(/not both/);
    expect(plan("--requests", "examples/requests.csv", "--bogus").status).toBe(2);
    const nope = plan("--requests", "examples/requests.csv", "--stack", "nope");
    expect(nope.status).toBe(2);
    expect(nope.stderr).not.toMatch(/\n\s+at /);
    fs.writeFileSync(out("bad.csv"), "when,user\nx,y\n");
    const bad = plan("--requests", out("bad.csv"));
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/bad\.csv:1: the CSV header has no "timestamp" column/);
  });

  test("timestamps without an offset are refused unless --assume-timezone names their zone", () => {
    const local = TEAM_SHAPE.startIso;
    fs.writeFileSync(out("naive.csv"), "timestamp\n" + generateRequests({ ...TEAM_SHAPE, days: 30 }).map((r) => new Date(r.timestamp).toISOString().replace("Z", "")).join("\n") + "\n");
    const refused = plan("--requests", out("naive.csv"));
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/naive\.csv:2: timestamp ".*" has no UTC offset.*--assume-timezone Europe\/Berlin/);
    expect(plan("--requests", out("naive.csv"), "--assume-timezone", "UTC").status).toBe(0);
    expect(local).toMatch(/Z$/);
  });

  test("too little data warns how sure the plan is", () => {
    fs.writeFileSync(out("short.csv"), toCsv(generateRequests({ ...TEAM_SHAPE, days: 6 })));
    const r = plan("--requests", out("short.csv"));
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/warning: little data: 5\.\d days \(fewer than 28\) .* ±\d+\.\d points \(95%\)/);
    expect(r.stdout).toMatch(/not validated: the log covers fewer than two weeks/);
  });

  test("a log that marks session starts gets the prewarm strategy priced beside the windows", () => {
    const rows = generateRequests({ ...TEAM_SHAPE, days: 35 });
    const csv = ["timestamp,session_start", ...rows.map((r, i) => `${new Date(r.timestamp).toISOString()},${i === 0 || r.timestamp - rows[i - 1].timestamp > 30 * 60_000}`)].join("\n") + "\n";
    fs.writeFileSync(out("sessions.csv"), csv);
    const r = plan("--requests", out("sessions.csv"), "--prewarm-seconds", "150");
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/prewarm: \d+ session starts; each page view assumed 150 s before/);
    expect(r.stdout).toMatch(/\n {2}prewarm 150s +\$\d+\.\d\d/);
    expect(r.stdout).toMatch(/\n {2}recommended \+ prewarm /);
  });
});

test("the example log has the statistics its generator states", () => {
  const rows = generateRequests(TEAM_SHAPE);
  expect(rows.length).toBeGreaterThan(5000);
  expect(rows.length).toBeLessThan(7000);
  expect(rows.filter((r) => r.user === "user-main").length / rows.length).toBeGreaterThan(0.55);
  const deadZone = rows.filter((r) => new Date(r.timestamp).getUTCHours() >= 4 && new Date(r.timestamp).getUTCHours() < 9).length;
  expect(deadZone / rows.length).toBeLessThan(0.02);
  expect(fs.readFileSync(path.join(ROOT, "examples/requests.csv"), "utf8")).toBe(toCsv(rows));
});
