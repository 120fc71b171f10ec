/** Writes examples/requests.csv (see scripts/exampleRequests.ts for what it imitates). */
import * as fs from "node:fs";
import * as path from "node:path";
import { command, runCommand } from "../container/cli";
import { generateRequests, TEAM_SHAPE, toCsv } from "./exampleRequests";

const GEN_EXAMPLE_REQUESTS = command({
  name: "gen:example-requests",
  purpose: "Writes examples/requests.csv, the synthetic request log docs/planner.md's example and the tests use.",
  usage: "npm run gen:example-requests",
  about: `The log imitates a small team (scripts/exampleRequests.ts, TEAM_SHAPE); a fixed seed makes the same file each
time, so a change to it shows in git diff.`,
  flags: {},
  example: "npm run gen:example-requests && git diff --stat examples/requests.csv",
  exitCodes: { 0: "written", 1: "it could not be written", 2: "usage error" },
});

function main(): number {
  const rows = generateRequests(TEAM_SHAPE);
  const out = path.resolve(__dirname, "..", "examples", "requests.csv");
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, toCsv(rows));
  const fromMain = rows.filter((r) => r.user === "user-main").length;
  console.log(`${out}: ${rows.length} requests over ${TEAM_SHAPE.days} days, ${((100 * fromMain) / rows.length).toFixed(0)}% from one user`);
  return 0;
}

void runCommand(GEN_EXAMPLE_REQUESTS, process.argv.slice(2), main).then((code) => (process.exitCode = code));
