/**
 * npm run replan: the replan workflow's second step. Reads `npm run plan -- --json` output, decides whether the
 * recommendation is worth a pull request, and if so rewrites the stack file's warmWindows and writes the pull
 * request's description. See USAGE.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { decideReplan, pullRequestBody, withWarmWindows, type PlanDocument } from "./replanDecision";

const USAGE = `npm run replan -- --plan PLAN.json --stack NAME [--stack-file FILE] [--min-saving USD] [--table FILE] [--plan-text FILE] [--report-url URL] [--body OUT]

Decides whether the planner's recommendation warrants a pull request: it must save at least --min-saving USD a
month (default 20), or meet the cold target the current windows miss. If so, rewrites warmstart:warmWindows in the
stack file (default Pulumi.<stack>.yaml) and writes the pull request description to --body. Prints changed=true or
changed=false (also to $GITHUB_OUTPUT when set).

Example: npm run replan -- --plan plan.json --stack prod --table comparison.md --plan-text plan.txt --body pr-body.md
Exit codes: 0 decided (either way); 1 unreadable plan or stack file; 2 usage error.`;

function main(): number {
  let v;
  try {
    v = parseArgs({ options: { plan: { type: "string" }, stack: { type: "string" }, "stack-file": { type: "string" }, "min-saving": { type: "string" }, table: { type: "string" }, "plan-text": { type: "string" }, "report-url": { type: "string" }, body: { type: "string" }, help: { type: "boolean" } } }).values;
  } catch (err) {
    console.error(`replan: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (v.help) {
    console.log(USAGE);
    return 0;
  }
  if (!v.plan || !v.stack) {
    console.error(`replan: --plan and --stack are required\n\n${USAGE}`);
    return 2;
  }
  const minSaving = Number(v["min-saving"] ?? "20");
  if (!Number.isFinite(minSaving) || minSaving < 0) {
    console.error(`replan: --min-saving must be a number of USD such as 20, got "${v["min-saving"]}"\n\n${USAGE}`);
    return 2;
  }
  const stackFile = v["stack-file"] ?? path.resolve(__dirname, "..", `Pulumi.${v.stack}.yaml`);
  let plan: PlanDocument;
  let stackText: string;
  try {
    plan = JSON.parse(fs.readFileSync(v.plan, "utf8")) as PlanDocument;
    stackText = fs.readFileSync(stackFile, "utf8");
  } catch (err) {
    console.error(`replan: ${(err as Error).message}`);
    return 1;
  }
  const decision = decideReplan(plan, minSaving);
  console.log(decision.reason);
  if (decision.change) {
    fs.writeFileSync(stackFile, withWarmWindows(stackText, plan.recommended.warmWindows));
    if (v.body) {
      const table = v.table ? fs.readFileSync(v.table, "utf8").trim() : "";
      const text = v["plan-text"] ? fs.readFileSync(v["plan-text"], "utf8") : "";
      const heatmap = /Requests by weekday and hour[\s\S]*?\n\n/.exec(text)?.[0].trim() ?? "";
      fs.writeFileSync(v.body, pullRequestBody({ decision, plan, table, heatmap, reportUrl: v["report-url"], stack: v.stack }) + "\n");
    }
  }
  const line = `changed=${decision.change}`;
  console.log(line);
  if (process.env.GITHUB_OUTPUT) fs.appendFileSync(process.env.GITHUB_OUTPUT, `${line}\n`);
  return 0;
}

process.exitCode = main();
