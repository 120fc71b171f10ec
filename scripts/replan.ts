/**
 * npm run replan: the replan workflow's second step. Reads `npm run plan -- --json` output, decides whether the
 * recommendation is worth a pull request, and if so rewrites the stack file's warmWindows and writes the pull
 * request's description. See REPLAN (its --help).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { command, numberFlag, readFlagFile, runCommand, writeFlagFile, type Values } from "../container/cli";
import { CommandError } from "../container/commandError";
import { decideReplan, planDocumentProblem, pullRequestBody, withWarmWindows, type PlanDocument } from "../planner/replanDecision";

const REPLAN = command({
  name: "replan",
  purpose: "Decides whether the planner's recommendation warrants a pull request, and if so rewrites the stack file.",
  usage: "npm run replan -- --plan PLAN.json --stack NAME [options]",
  about: `The recommendation must save at least --min-saving USD a month, or meet the cold target the current windows
miss. If it does, warmstart:warmWindows is rewritten in the stack file (comments and other keys kept) and the pull
request's description goes to --body. Prints changed=true or changed=false, also to $GITHUB_OUTPUT when set.`,
  flags: {
    plan: { type: "string", value: "FILE", required: true, help: "what npm run plan -- --json wrote" },
    stack: { type: "string", value: "NAME", required: true, help: "the stack the plan is for" },
    "stack-file": { type: "string", value: "FILE", defaultText: "Pulumi.<stack>.yaml", help: "the stack file to rewrite" },
    "min-saving": { type: "string", value: "USD", default: "20", help: "the monthly saving that warrants a change" },
    table: { type: "string", value: "FILE", defaultText: "none", help: "the comparison table for the description (npm run plan -- --markdown)" },
    "plan-text": { type: "string", value: "FILE", defaultText: "none", help: "plan's printed output, whose heatmap goes in the description" },
    "report-url": { type: "string", value: "URL", defaultText: "none", help: "the workflow run whose artifact holds the full report" },
    body: { type: "string", value: "OUT", defaultText: "not written", help: "where the pull request's description goes" },
  },
  env: { GITHUB_OUTPUT: "a file changed=true|false is appended to (GitHub Actions sets it; default none)" },
  example: "npm run replan -- --plan plan.json --stack prod --table comparison.md --plan-text plan.txt --body pr-body.md",
  exitCodes: {
    0: "decided (either way)",
    1: "an unreadable plan, stack, table or plan-text file, or one that cannot be written",
    2: "usage error",
  },
});

function readPlan(file: string): PlanDocument {
  const text = readFlagFile("--plan", file, 1);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new CommandError(`--plan ${file}: not JSON (${(err as Error).message.replace(/\s+/g, " ")}); give it the file \`npm run plan -- --json FILE\` wrote`, 1);
  }
  const problem = planDocumentProblem(doc);
  if (problem) throw new CommandError(`--plan ${file}: ${problem}; give it the file \`npm run plan -- --json FILE\` wrote`, 1);
  return doc as PlanDocument;
}

function main(v: Values<typeof REPLAN.flags>): number {
  const minSaving = numberFlag("min-saving", v["min-saving"], 0, 1e7);
  const stackFile = v["stack-file"] ?? path.resolve(__dirname, "..", `Pulumi.${v.stack}.yaml`);
  const plan = readPlan(v.plan);
  const stackText = readFlagFile(v["stack-file"] ? "--stack-file" : `--stack ${v.stack}:`, stackFile, 1);
  const decision = decideReplan(plan, minSaving);
  console.log(decision.reason);
  if (decision.change) {
    writeFlagFile(v["stack-file"] ? "--stack-file" : `--stack ${v.stack}:`, stackFile, withWarmWindows(stackText, plan.recommended.warmWindows));
    if (v.body) {
      const table = v.table ? readFlagFile("--table", v.table, 1).trim() : "";
      const text = v["plan-text"] ? readFlagFile("--plan-text", v["plan-text"], 1) : "";
      const heatmap = /Requests by weekday and hour[\s\S]*?\n\n/.exec(text)?.[0].trim() ?? "";
      writeFlagFile("--body", v.body, pullRequestBody({ decision, plan, table, heatmap, reportUrl: v["report-url"], stack: v.stack }) + "\n");
    }
  }
  const line = `changed=${decision.change}`;
  console.log(line);
  if (process.env.GITHUB_OUTPUT) fs.appendFileSync(process.env.GITHUB_OUTPUT, `${line}\n`);
  return 0;
}

void runCommand(REPLAN, process.argv.slice(2), main).then((code) => (process.exitCode = code));
