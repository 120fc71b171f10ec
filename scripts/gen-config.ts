/**
 * npm run gen:config [-- --check]
 *
 * Writes what the key table (config/keys.ts) generates: Pulumi.yaml's config block and docs/configuration.md.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { command, runCommand } from "../container/cli";
import { CommandError } from "../container/commandError";
import { configurationMarkdown, withGeneratedConfig } from "../config/reference";

export const GEN_CONFIG = command({
  name: "gen:config",
  purpose: "Writes Pulumi.yaml's config block and docs/configuration.md from the key table in config/keys.ts.",
  usage: "npm run gen:config [-- --check]",
  about: `Add or change a config key in one place, the key table (KEYS in config/keys.ts), then run this. With --check
it writes nothing and fails when either file is not what the table generates (npm test checks the same).`,
  flags: {
    check: { type: "boolean", help: "write nothing; exit 1 naming each file that is stale" },
  },
  example: "npm run gen:config -- --check",
  exitCodes: { 0: "written, or up to date", 1: "--check: a file is stale", 2: "usage error" },
});

/** Each generated file and its text as the table makes it now. */
export function generatedFiles(rootDir: string): Record<string, string> {
  return {
    "Pulumi.yaml": withGeneratedConfig(fs.readFileSync(path.join(rootDir, "Pulumi.yaml"), "utf8")),
    "docs/configuration.md": configurationMarkdown(),
  };
}

function main(values: { check?: boolean }): number {
  const root = path.resolve(__dirname, "..");
  const stale = Object.entries(generatedFiles(root)).filter(([file, text]) => !fs.existsSync(path.join(root, file)) || fs.readFileSync(path.join(root, file), "utf8") !== text);
  if (values.check) {
    if (stale.length > 0) throw new CommandError(`${stale.map(([f]) => f).join(" and ")} ${stale.length === 1 ? "is" : "are"} not what config/keys.ts generates: run npm run gen:config`, 1);
    console.log("gen:config: Pulumi.yaml and docs/configuration.md are up to date");
    return 0;
  }
  for (const [file, text] of stale) fs.writeFileSync(path.join(root, file), text);
  console.log(stale.length > 0 ? `gen:config: wrote ${stale.map(([f]) => f).join(", ")}` : "gen:config: up to date");
  return 0;
}

if (require.main === module) {
  void runCommand(GEN_CONFIG, process.argv.slice(2), main).then((code) => process.exit(code));
}
