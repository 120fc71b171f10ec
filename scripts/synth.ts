/**
 * npm run synth -- --stack <name> [--config-file FILE] [--json FILE] [--now ISO]
 *
 * Shows what a stack would create, offline and without credentials: the program runs under Pulumi's mocks with
 * the config the CLI would give it (Pulumi.yaml defaults overlaid by Pulumi.<name>.yaml; secrets replaced by a
 * placeholder). Exit 1 with the configuration error alone when the config is invalid, also when a secret key holds a
 * plain-text value (pulumi up refuses it the same way); exit 1 too when two resources would have one URN, which the
 * engine refuses.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { ConfigError, parseStackConfig } from "../components/config";
import { DuplicateUrnError, runOffline } from "./offline";
import { readProjectFile, readStackConfig } from "./stackFiles";
import { renderReport } from "./synthReport";

const USAGE = "usage: npm run synth -- --stack <name> [--config-file FILE] [--json FILE] [--now ISO-8601 instant]";

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs({ options: { stack: { type: "string" }, "config-file": { type: "string" }, json: { type: "string" }, now: { type: "string" }, help: { type: "boolean" } } }).values;
  } catch (err) {
    console.error(`synth: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    console.log(USAGE);
    return 0;
  }
  if (!args.stack) {
    console.error(`synth: --stack is required\n${USAGE}`);
    return 2;
  }
  if (args.now !== undefined && (!/^\d{4}-\d{2}-\d{2}T/.test(args.now) || Number.isNaN(Date.parse(args.now)))) {
    console.error(`synth: --now must be an ISO 8601 instant such as 2026-11-23T15:00:00Z, got ${JSON.stringify(args.now)}`);
    return 2;
  }
  const rootDir = path.resolve(__dirname, "..");
  let files;
  try {
    files = readStackConfig(rootDir, args.stack, args["config-file"]);
  } catch (err) {
    console.error(`synth: ${(err as Error).message}`);
    return 1;
  }
  const raw = (key: string) => files.config[key];
  try {
    // Parsed here too, for the schedule table; the program parses the same values itself.
    const config = parseStackConfig(raw, { rootDir, isEncrypted: (key) => files.secretKeys.includes(key), presentKeys: files.presentKeys });
    const run = await runOffline({
      project: readProjectFile(rootDir).name,
      stack: args.stack,
      config: files.config,
      secretKeys: files.secretKeys,
      now: args.now,
      importProgram: () => import(path.join(rootDir, "index.ts")),
    });
    console.log(renderReport(run, config, args.stack));
    if (args.json) {
      const doc = {
        // dependencies: what the engine would create first (dependsOn and every resource an input came from).
        resources: run.resources.map((r) => ({ urn: r.urn, type: r.type, name: r.name, parent: r.parent ?? null, dependencies: r.dependencies, inputs: r.inputs })),
        outputs: run.outputs,
      };
      fs.writeFileSync(args.json, JSON.stringify(doc, null, 2) + "\n");
    }
    return 0;
  } catch (err) {
    if (err instanceof ConfigError || err instanceof DuplicateUrnError) {
      console.error(err.message);
      return 1;
    }
    console.error(`synth: ${(err as Error).stack ?? err}`);
    return 1;
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
