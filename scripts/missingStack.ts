/**
 * What to say when a stack has no Pulumi.<stack>.yaml, for synth and plan alike. Offline there is no backend to
 * `pulumi stack init` against, so the way forward is a copy of an example. Node.js only: plan loads it before the
 * Pulumi SDK.
 */
import * as fs from "node:fs";
import * as path from "node:path";

/** The stacks that have a file in the project root ("prod" for Pulumi.prod.yaml). */
export function stacksWithFiles(rootDir: string): string[] {
  return fs
    .readdirSync(rootDir)
    .filter((f) => /^Pulumi\.[^.]+\.yaml$/.test(f))
    .map((f) => f.slice("Pulumi.".length, -".yaml".length));
}

export function missingStackMessage(rootDir: string, stack: string): string {
  const stacks = stacksWithFiles(rootDir);
  const dir = path.join(rootDir, "examples/stacks");
  const examples = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith(".yaml")) : [];
  return (
    `no stack file Pulumi.${stack}.yaml${stacks.length ? ` (stacks here: ${stacks.join(", ")})` : ""}. Start from an example and edit its MADE-UP values: ` +
    `cp Pulumi.prod.yaml Pulumi.${stack}.yaml${examples.length ? `, or cp examples/stacks/${examples[0]} Pulumi.${stack}.yaml (examples/stacks/ has ${examples.map((e) => e.replace(/^Pulumi\.|\.yaml$/g, "")).join(", ")})` : ""}; ` +
    `or read one in place with --config-file examples/stacks/FILE`
  );
}
