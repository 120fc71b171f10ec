import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { describe, expect, test } from "vitest";
import { decideReplan, withWarmWindows, type PlanDocument } from "../../planner/replanDecision";

const ROOT = path.resolve(__dirname, "../..");
const TSX = path.join(ROOT, "node_modules", ".bin", "tsx");
const OUT = path.join(ROOT, "test", ".tmp", "replan");
fs.rmSync(OUT, { recursive: true, force: true });
fs.mkdirSync(path.join(OUT, "bin"), { recursive: true });

/**
 * A stand-in gcloud: records its arguments and answers `logging read` with the example log's timestamps as the JSON
 * array `--format=json(timestamp)` prints (what the replan workflow's runner would get from Cloud Logging).
 */
const stub = path.join(OUT, "bin", "gcloud");
fs.writeFileSync(
  stub,
  `#!/usr/bin/env node
const fs = require("node:fs");
fs.writeFileSync(${JSON.stringify(path.join(OUT, "gcloud-args.json"))}, JSON.stringify(process.argv.slice(2)));
const rows = fs.readFileSync(${JSON.stringify(path.join(ROOT, "examples/requests.csv"))}, "utf8").trim().split("\\n").slice(1);
process.stdout.write(JSON.stringify(rows.map((r) => ({ timestamp: r.split(",")[0] })), null, 2));
`,
);
fs.chmodSync(stub, 0o755);
const env = { ...process.env, PATH: `${path.dirname(stub)}:${process.env.PATH}` };
const run = (script: string, args: string[]) => spawnSync(TSX, [script, ...args], { cwd: ROOT, encoding: "utf8", env });

describe("the replan workflow's steps, with a stand-in gcloud", () => {
  const plan = run("scripts/plan.ts", ["--from-cloud-logging", "--stack", "prod", "--days", "90", "--json", path.join(OUT, "plan.json"), "--markdown", path.join(OUT, "comparison.md"), "--html", path.join(OUT, "report.html")]);

  test("plan reads the service's request log from the stack's bucket with gcloud logging read", () => {
    expect(plan.status, plan.stderr).toBe(0);
    const args = JSON.parse(fs.readFileSync(path.join(OUT, "gcloud-args.json"), "utf8")) as string[];
    expect(args.slice(0, 2)).toEqual(["logging", "read"]);
    expect(args[2]).toMatch(/^resource\.type="cloud_run_revision" AND resource\.labels\.service_name="imagegen" AND logName="projects\/acme-imagegen-prod\/logs\/run\.googleapis\.com%2Frequests" AND timestamp>="/);
    expect(args).toContain("--bucket=imagegen-requests");
    expect(args).toContain("--view=_AllLogs");
    expect(plan.stdout).toMatch(/^5904 requests over 89\.3 days from cloud-logging:imagegen-requests/);
  });

  test("replan rewrites only warmWindows in the stack file and writes the pull request's description", () => {
    fs.writeFileSync(path.join(OUT, "plan.txt"), plan.stdout);
    const stackFile = path.join(OUT, "Pulumi.prod.yaml");
    const original = fs.readFileSync(path.join(ROOT, "Pulumi.prod.yaml"), "utf8");
    fs.writeFileSync(stackFile, original);
    const output = path.join(OUT, "github-output");
    fs.writeFileSync(output, "");
    const r = spawnSync(TSX, ["scripts/replan.ts", "--plan", path.join(OUT, "plan.json"), "--stack", "prod", "--stack-file", stackFile, "--min-saving", "20", "--table", path.join(OUT, "comparison.md"), "--plan-text", path.join(OUT, "plan.txt"), "--report-url", "https://github.com/acme/imagegen-infra/actions/runs/1", "--body", path.join(OUT, "body.md")], { cwd: ROOT, encoding: "utf8", env: { ...env, GITHUB_OUTPUT: output } });
    expect(r.status, r.stderr).toBe(0);
    expect(fs.readFileSync(output, "utf8")).toBe("changed=true\n");
    const recommended = JSON.parse(fs.readFileSync(path.join(OUT, "plan.json"), "utf8")).recommended.warmWindows;
    const before = parse(original).config;
    const after = parse(fs.readFileSync(stackFile, "utf8")).config;
    expect(after["warmstart:warmWindows"]).toBe(recommended);
    expect({ ...after, "warmstart:warmWindows": before["warmstart:warmWindows"] }).toEqual(before);
    // Comments survive the edit.
    expect(fs.readFileSync(stackFile, "utf8").split("\n").filter((l) => l.startsWith("#"))).toEqual(original.split("\n").filter((l) => l.startsWith("#")));
    const body = fs.readFileSync(path.join(OUT, "body.md"), "utf8");
    expect(body).toMatch(/saves \$\d+\.\d\d a month/);
    expect(body).toMatch(/\| strategy \| \$\/month \| cold \| validated cold/);
    expect(body).toContain("Requests by weekday and hour");
    expect(body).toContain("replan-report");
  });
});

describe("when a replan proposes a change", () => {
  const plan = (cur: Partial<PlanDocument["recommended"]>, rec: Partial<PlanDocument["recommended"]>): PlanDocument => ({
    goal: { targetColdFraction: 0.05 },
    current: { name: "current", warmWindows: "weekdays 09:00-21:00", monthlyCost: 500, coldFraction: 0.04, validationColdFraction: null, ...cur },
    recommended: { name: "recommended", warmWindows: "daily 10:00-20:00", monthlyCost: 490, coldFraction: 0.045, validationColdFraction: 0.047, ...rec },
  });
  test.each([
    ["saves less than the threshold", plan({}, {}), false],
    ["saves more than the threshold", plan({}, { monthlyCost: 450 }), true],
    ["the same windows", plan({}, { warmWindows: "weekdays  09:00-21:00", monthlyCost: 100 }), false],
    ["current misses the target, recommendation meets it", plan({ coldFraction: 0.08 }, { monthlyCost: 560 }), true],
    ["cheaper but misses the target on validation", plan({}, { monthlyCost: 300, validationColdFraction: 0.07 }), false],
  ] as const)("%s", (_, p, change) => {
    expect(decideReplan(p, 20).change).toBe(change);
  });
});

describe("the stack file the replan writes", () => {
  test("keeps a list of windows a list (one per item) and a string a string, comments kept", () => {
    const asList = "# prod\nconfig:\n  # when warm\n  warmstart:warmWindows:\n    - weekdays 09:00-21:00\n  gcp:region: europe-west4\n";
    const listed = parse(withWarmWindows(asList, "weekdays 08:00-20:00; sat 10:00-14:00")) as { config: Record<string, unknown> };
    expect(listed.config["warmstart:warmWindows"]).toEqual(["weekdays 08:00-20:00", "sat 10:00-14:00"]);
    expect(withWarmWindows(asList, "daily 10:00-20:00")).toContain("# when warm");
    const asString = 'config:\n  warmstart:warmWindows: "weekdays 09:00-21:00"\n';
    expect((parse(withWarmWindows(asString, "weekdays 08:00-20:00; sat 10:00-14:00")) as { config: Record<string, unknown> }).config["warmstart:warmWindows"]).toBe("weekdays 08:00-20:00; sat 10:00-14:00");
  });
});
