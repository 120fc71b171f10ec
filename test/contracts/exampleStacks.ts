/**
 * The example stacks every cloud contract is checked against: prod (Pulumi.prod.yaml) and the ones in
 * examples/stacks/, one per way of building and feeding the image. Each is synthesized once per test run, under the
 * same mocks and config handling as `npm run synth`, and shared by every rule.
 */
import * as path from "node:path";
import { vi } from "vitest";
import { runOffline, type OfflineRun, type RecordedResource } from "../../scripts/offline";
import { readProjectFile, readStackConfig } from "../../scripts/stackFiles";

const ROOT = path.resolve(__dirname, "../..");

/** Stack name → its config file, relative to the project root. */
export const EXAMPLE_STACKS: Readonly<Record<string, string>> = {
  prod: "Pulumi.prod.yaml",
  presigned: "examples/stacks/Pulumi.presigned.yaml",
  sync: "examples/stacks/Pulumi.sync.yaml",
  local: "examples/stacks/Pulumi.local.yaml",
  prebuilt: "examples/stacks/Pulumi.prebuilt.yaml",
  pyserver: "examples/stacks/Pulumi.pyserver.yaml",
};

/** The instant the contracts are checked at, pinned so that the runtime rules do not drift with the wall clock. */
export const CONTRACT_NOW = "2026-11-29T12:00:00Z";

export interface SynthesizedStack extends OfflineRun {
  readonly stack: string;
  readonly config: Record<string, string>;
  ofType(type: string): RecordedResource[];
  byUrn(urn: string): RecordedResource | undefined;
}

export async function synthesize(stack: string, opts: { now?: string; overrides?: Record<string, string> } = {}): Promise<SynthesizedStack> {
  const files = readStackConfig(ROOT, stack, EXAMPLE_STACKS[stack]);
  const config = { ...files.config, ...opts.overrides };
  vi.resetModules();
  const run = await runOffline({
    project: readProjectFile(ROOT).name,
    stack,
    config,
    secretKeys: files.secretKeys,
    now: opts.now ?? CONTRACT_NOW,
    importProgram: () => import(path.join(ROOT, "index.ts")),
  });
  const urns = new Map(run.resources.map((r) => [r.urn, r]));
  return { ...run, stack, config, ofType: (t) => run.resources.filter((r) => r.type === t), byUrn: (u) => urns.get(u) };
}

/** Every example stack, synthesized one after the other (the Pulumi runtime is global to the process). */
export async function synthesizeAll(): Promise<SynthesizedStack[]> {
  const runs: SynthesizedStack[] = [];
  for (const stack of Object.keys(EXAMPLE_STACKS)) runs.push(await synthesize(stack));
  return runs;
}
