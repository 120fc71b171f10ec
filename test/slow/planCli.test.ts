import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, test } from "vitest";
import { recommend } from "../../components/planner";
import { parseRequestLog } from "../../components/requestLog";
import { parseWarmWindows } from "../../components/warmWindows";
import { generateRequests, TEAM_SHAPE, toCsv } from "../../scripts/exampleRequests";

const ROOT = path.resolve(__dirname, "../..");
const TSX = path.join(ROOT, "node_modules", ".bin", "tsx");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "warmstart-plan-"));
const plan = (...args: string[]) => spawnSync(TSX, ["scripts/plan.ts", ...args], { cwd: ROOT, encoding: "utf8" });
const SIM = { serviceSeconds: 20, idleSeconds: 900, coldStartSeconds: 120, maxInstances: 2, hourlyCost: 1.42 };
const SCHED = { warmMinInstances: 1, idleMinInstances: 0, leadMinutes: 5 };

describe("npm run plan on the example log", () => {
  const jsonFile = path.join(tmp, "plan.json");
  const svgFile = path.join(tmp, "plan.svg");
  const r = plan("--requests", "examples/requests.csv", "--json", jsonFile, "--svg", svgFile);

  test("ends in a pulumi config set line whose windows parse", () => {
    expect(r.status, r.stderr).toBe(0);
    const line = r.stdout.split("\n").find((l) => l.startsWith("pulumi config set warmstart:warmWindows "))!;
    const windows = /"(.*)"/.exec(line)![1];
    expect(() => parseWarmWindows(windows)).not.toThrow();
    expect(r.stdout).toMatch(/Requests by weekday and hour \(America\/Chicago\)/);
  });

  test("writes the JSON the issue specifies, with a recommendation that meets the 5% default target", () => {
    const doc = JSON.parse(fs.readFileSync(jsonFile, "utf8"));
    expect(Object.keys(doc.recommended).sort()).toEqual(["coldFraction", "monthlyCost", "warmWindows"]);
    expect(doc.recommended.coldFraction).toBeLessThanOrEqual(0.05);
    expect(doc.strategies.map((s: any) => s.name)).toEqual(["scale to zero", "24/7", "current (prod)", "recommended"]);
    for (const s of doc.strategies) expect(Object.keys(s).sort()).toEqual(["coldFraction", "coldRequests", "monthlyCost", "name", "waitP50Seconds", "waitP95Seconds", "warmWindows"]);
    const [zero, always] = doc.strategies;
    expect(doc.recommended.monthlyCost).toBeLessThan(always.monthlyCost);
    expect(doc.recommended.coldFraction).toBeLessThan(zero.coldFraction);
  });

  test("draws the heatmap and the cost-vs-cold chart with the strategies marked", () => {
    const svg = fs.readFileSync(svgFile, "utf8");
    expect(svg.startsWith("<svg")).toBe(true);
    expect((svg.match(/<rect /g) ?? []).length).toBe(7 * 24);
    for (const name of ["scale to zero", "24/7", "recommended"]) expect(svg).toContain(`>${name}</text>`);
  });

  test("a budget picks the fewest cold requests within it", () => {
    const b = plan("--requests", "examples/requests.csv", "--monthly-budget", "300", "--json", path.join(tmp, "b.json"));
    expect(b.status, b.stderr).toBe(0);
    expect(JSON.parse(fs.readFileSync(path.join(tmp, "b.json"), "utf8")).recommended.monthlyCost).toBeLessThanOrEqual(300);
  });
});

test("the recommender meets its target on a log it was not tuned on (other seed, zone and peak)", () => {
  const other = generateRequests({
    ...TEAM_SHAPE,
    seed: 7,
    days: 60,
    startIso: "2026-03-02T00:00:00Z",
    burstsPerDay: 6,
    requestsPerBurst: 8,
    medianGapMinutes: 1.5,
    // Office hours in Berlin (UTC+1/+2 across the spring DST change).
    hourWeights: [0, 0, 0, 0, 0, 0, 1, 4, 8, 9, 9, 8, 6, 8, 9, 8, 6, 3, 1, 0.5, 0, 0, 0, 0],
    mainUserShare: 0.3,
  });
  const log = parseRequestLog(toCsv(other), "other.csv");
  for (const target of [0.02, 0.05, 0.1]) {
    const r = recommend({ times: log.times, timeZone: "Europe/Berlin", sim: SIM, schedule: SCHED }, { targetColdFraction: target });
    expect(r.recommended.coldFraction, `target ${target}`).toBeLessThanOrEqual(target);
    expect(r.recommended.monthlyCost).toBeLessThanOrEqual(Math.max(...r.candidates.map((c) => c.monthlyCost)));
  }
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

test("bad input: usage errors exit 2, unusable logs exit 1 naming the file", () => {
  expect(plan().status).toBe(2);
  expect(plan("--requests", "examples/requests.csv", "--monthly-budget", "1", "--target-cold-fraction", "0.1").stderr).toMatch(/not both/);
  const bad = path.join(tmp, "bad.csv");
  fs.writeFileSync(bad, "when,user\nx,y\n");
  const r = plan("--requests", bad);
  expect(r.status).toBe(1);
  expect(r.stderr).toMatch(/bad\.csv:1: the CSV header has no "timestamp" column/);
});
