/**
 * Runs index.ts under Pulumi mocks with a given config and returns every registered resource, so component tests
 * stay short. Each call re-imports the program (vi.resetModules) so one test file can run many configs.
 */
import { vi } from "vitest";
import * as fs from "node:fs";
import * as path from "node:path";
import { KEYS } from "../config/keys";
import { runOffline, type OfflineRun, type OfflineRunOptions, type RecordedResource } from "../scripts/offline";

const PROGRAM = path.resolve(__dirname, "../index.ts");

/** A minimal valid stack: what `pulumi config set` would hold for a first deploy. */
export const BASE_CONFIG: Readonly<Record<string, string>> = {
  "gcp:project": "acme-test-123",
  "gcp:region": "us-central1",
  "warmstart:modelsDomain": "models.example.com",
  "warmstart:modelsAccessKey": "s3cr3t-models-key-value",
  "warmstart:modelsManifest": "test/fixtures/models.json",
  // A model server image the user brings: one image build per run. The default (./images/comfyui, a second build
  // before it) has tests of its own.
  "warmstart:baseImage": "docker.io/example/comfyui:1",
};
/**
 * A new directory inside the project (test/.tmp/, git-ignored), for files a config key points at: the program refuses
 * a manifest outside the project root.
 */
export function projectTempDir(prefix: string): string {
  const parent = path.resolve(__dirname, ".tmp");
  fs.mkdirSync(parent, { recursive: true });
  return fs.mkdtempSync(path.join(parent, prefix));
}

/** Every secret key of the program, as `pulumi config set --secret` would mark it. */
const SECRET_KEYS = Object.entries(KEYS)
  .filter(([, spec]) => "secret" in spec && spec.secret)
  .map(([name]) => `warmstart:${name}`);

export interface StackRun extends OfflineRun {
  /** Resources of a type (full token, e.g. "gcp:cloudrunv2/service:Service"). */
  ofType(type: string): RecordedResource[];
  /** The one resource of a type; fails the test when there are none or several. */
  one(type: string): RecordedResource;
  /** The one local command whose command line contains `fragment` (e.g. "submit-build", "reconcile"). */
  command(fragment: string): RecordedResource;
}

export interface RunOptions {
  /** Keys to unset from BASE_CONFIG. */
  readonly unset?: readonly string[];
  readonly now?: string;
  readonly preview?: boolean;
  /** Keys given as plain text although they are secrets (as `pulumi config set` without --secret stores them). */
  readonly plainText?: readonly string[];
  /** Data source answers by token (see OfflineRunOptions.calls). */
  readonly calls?: OfflineRunOptions["calls"];
}

/** Registered resources of the last run, also when the program threw (to prove nothing was registered). */
export let lastResources: RecordedResource[] = [];

export async function runStack(overrides: Record<string, string> = {}, opts: RunOptions = {}): Promise<StackRun> {
  const config: Record<string, string> = { ...BASE_CONFIG, ...overrides };
  for (const k of opts.unset ?? []) delete config[k];
  vi.resetModules();
  const resources: RecordedResource[] = [];
  lastResources = resources;
  const run = await runOffline({
    project: "warmstart",
    stack: "test",
    config,
    secretKeys: SECRET_KEYS.filter((k) => k in config && !opts.plainText?.includes(k)),
    now: opts.now ?? "2026-11-23T12:00:00Z",
    preview: opts.preview,
    importProgram: () => import(PROGRAM),
    calls: opts.calls,
    onResource: (r) => resources.push(r),
  });
  return {
    ...run,
    ofType: (type) => run.resources.filter((r) => r.type === type),
    one: (type) => {
      const found = run.resources.filter((r) => r.type === type);
      if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
      return found[0];
    },
    command: (fragment) => {
      const found = run.resources.filter((r) => r.type === "command:local:Command" && String(r.inputs.create).includes(fragment));
      if (found.length !== 1) throw new Error(`expected one command with "${fragment}", found ${found.length}`);
      return found[0];
    },
  };
}

const sharedRuns = new Map<string, Promise<StackRun>>();

/**
 * runStack for a config several tests of a file read without changing anything on disk between them: one run per
 * distinct config and options (without `calls`), shared. Use runStack where a test changes files between runs.
 */
export function sharedStackRun(overrides: Record<string, string> = {}, opts: Omit<RunOptions, "calls"> = {}): Promise<StackRun> {
  const key = JSON.stringify([overrides, opts]);
  if (!sharedRuns.has(key)) sharedRuns.set(key, runStack(overrides, opts));
  return sharedRuns.get(key)!;
}
