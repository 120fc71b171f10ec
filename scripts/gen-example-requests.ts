/** Writes examples/requests.csv (see scripts/exampleRequests.ts for what it imitates). */
import * as fs from "node:fs";
import * as path from "node:path";
import { generateRequests, TEAM_SHAPE, toCsv } from "./exampleRequests";

const rows = generateRequests(TEAM_SHAPE);
const out = path.resolve(__dirname, "..", "examples", "requests.csv");
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, toCsv(rows));
const main = rows.filter((r) => r.user === "user-main").length;
console.log(`${out}: ${rows.length} requests over ${TEAM_SHAPE.days} days, ${((100 * main) / rows.length).toFixed(0)}% from one user`);
