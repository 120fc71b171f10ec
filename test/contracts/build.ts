/**
 * Runtime and build contracts: the guard's runtime is one Cloud Run functions still deploys, and the image build's
 * Cloud Build config stays within what Cloud Build and its builder image accept.
 */
import type { SynthesizedStack } from "./exampleStacks";
import { CONTRACT_NOW } from "./exampleStacks";
import { label, type ContractRule } from "./rule";

const CHECKED = "2026-11-29";

/** https://docs.cloud.google.com/run/docs/runtimes/function-runtimes, Node.js (read 2026-11-29). */
export const FUNCTION_RUNTIME_DATES: Readonly<Record<string, { deprecation: string; decommission: string }>> = {
  nodejs20: { deprecation: "2026-04-30", decommission: "2026-10-30" },
  nodejs22: { deprecation: "2027-04-30", decommission: "2027-10-31" },
  nodejs24: { deprecation: "2028-04-30", decommission: "2028-10-31" },
};

/**
 * The flags of `docker build` in Docker CLI 20.10.24, the CLI in gcr.io/cloud-builders/docker:20.10.24
 * (docker/cli v20.10.24, cli/command/image/build.go, NewBuildCommand; plus --disable-content-trust from
 * AddTrustVerificationFlags). No --load: that is buildx's.
 */
export const DOCKER_20_10_BUILD_FLAGS = new Set([
  "--tag", "-t", "--build-arg", "--ulimit", "--file", "-f", "--memory", "-m", "--memory-swap", "--shm-size", "--cpu-shares", "-c",
  "--cpu-period", "--cpu-quota", "--cpuset-cpus", "--cpuset-mems", "--cgroup-parent", "--isolation", "--label", "--no-cache", "--rm",
  "--force-rm", "--quiet", "-q", "--pull", "--cache-from", "--compress", "--security-opt", "--network", "--add-host", "--target",
  "--iidfile", "--platform", "--squash", "--stream", "--progress", "--secret", "--ssh", "--output", "-o", "--disable-content-trust",
]);
/** Flags that only do anything with BuildKit, which the 20.10 CLI uses only with DOCKER_BUILDKIT=1. */
const BUILDKIT_ONLY = new Set(["--secret", "--ssh", "--progress", "--output", "-o"]);

/** Cloud Build (google/devtools/cloudbuild/v1/cloudbuild.proto @ googleapis f8291d2b, BuildOptions). */
export const CLOUD_BUILD_LIMITS = {
  maxDiskSizeGb: 4000, // disk_size_gb: "At present, the maximum disk size is 4000GB"
  maxTimeoutSeconds: 24 * 3600, // build timeout: at most 24 hours (cloud.google.com/build/docs/build-config-file-schema)
  // MachineType values not marked deprecated (N1_HIGHCPU_8 and N1_HIGHCPU_32 are).
  machineTypes: new Set(["E2_HIGHCPU_8", "E2_HIGHCPU_32", "E2_MEDIUM", "E2_STANDARD_2"]),
};

interface BuildStep {
  name: string;
  entrypoint?: string;
  args: string[];
  env?: string[];
  secretEnv?: string[];
}
interface BuildConfig {
  steps: BuildStep[];
  options: { machineType: string; diskSizeGb: number; logging?: string };
  timeout: string;
  availableSecrets?: { secretManager: { env: string }[] };
  logsBucket?: string;
}

function buildConfigs(stack: SynthesizedStack): { name: string; config: BuildConfig }[] {
  return stack
    .ofType("command:local:Command")
    .filter((c) => String(c.plainInputs.create).includes("submit-build.sh"))
    .map((c) => ({ name: label(c), config: JSON.parse((c.plainInputs.environment as Record<string, string>).BUILD_CONFIG) as BuildConfig }));
}

/** The flags of every `docker build` in a step's bash script. */
export function dockerBuildFlags(script: string): string[] {
  return script
    .split("\n")
    .filter((line) => /^\s*docker build\b/.test(line))
    .flatMap((line) => line.trim().split(/\s+/).filter((w) => w.startsWith("-")).map((w) => w.split("=")[0]));
}

const perBuild = (id: string, rule: string, source: string, check: (b: { name: string; config: BuildConfig }) => string[]): ContractRule => ({
  id,
  rule,
  source,
  checked: CHECKED,
  violations: (stack) => buildConfigs(stack).flatMap(check),
  exercised: (stack) => buildConfigs(stack).length,
});

export const RUNTIME_AND_BUILD_RULES: readonly ContractRule[] = [
  {
    id: "runtime/guard",
    rule: "The guard's runtime is not decommissioned on the synth date, and synth warns within 90 days of its deprecation.",
    source: "https://docs.cloud.google.com/run/docs/runtimes/function-runtimes",
    checked: CHECKED,
    violations: (stack) =>
      stack.ofType("gcp:cloudfunctionsv2/function:Function").flatMap((fn) => {
        const runtime = String((fn.plainInputs.buildConfig as any).runtime);
        const dates = FUNCTION_RUNTIME_DATES[runtime];
        if (!dates) return [`${label(fn)}: runtime ${runtime} is not in Google's Node.js table`];
        const now = Date.parse(CONTRACT_NOW);
        if (now >= Date.parse(dates.decommission)) return [`${label(fn)}: ${runtime} was decommissioned on ${dates.decommission}`];
        const soon = now >= Date.parse(dates.deprecation) - 90 * 86_400_000;
        const warned = stack.warnings.some((w) => w.includes(runtime));
        return soon && !warned ? [`${label(fn)}: ${runtime} is deprecated on ${dates.deprecation} and synth does not say so`] : [];
      }),
    exercised: (stack) => stack.ofType("gcp:cloudfunctionsv2/function:Function").length,
  },
  perBuild("build/builder-pinned", "The build step's builder image is pinned by tag or digest.", "https://github.com/GoogleCloudPlatform/cloud-builders/blob/master/docker/cloudbuild.yaml", ({ name, config }) =>
    config.steps.filter((s) => !/(:[\w.-]+|@sha256:[0-9a-f]{64})$/.test(s.name) || s.name.endsWith(":latest")).map((s) => `${name}: step image ${s.name} is not pinned`),
  ),
  perBuild(
    "build/docker-flags",
    "The build step's docker build uses only flags Docker CLI 20.10.24 has (no buildx --load), and BuildKit-only ones with DOCKER_BUILDKIT=1.",
    "docker/cli v20.10.24 cli/command/image/build.go",
    ({ name, config }) =>
      config.steps.flatMap((s) => {
        if (s.name !== "gcr.io/cloud-builders/docker:20.10.24") return [`${name}: builder ${s.name} has no flag table here; add one from its docker/cli version`];
        const flags = dockerBuildFlags(s.entrypoint === "bash" ? s.args[1] : s.args.join(" "));
        const buildkit = (s.env ?? []).includes("DOCKER_BUILDKIT=1");
        return [
          ...flags.filter((f) => !DOCKER_20_10_BUILD_FLAGS.has(f)).map((f) => `${name}: docker build ${f} is not a flag of Docker CLI 20.10.24`),
          ...flags.filter((f) => BUILDKIT_ONLY.has(f) && !buildkit).map((f) => `${name}: ${f} needs DOCKER_BUILDKIT=1 in the step's env`),
        ];
      }),
  ),
  perBuild("build/limits", "Disk at most 4000 GB, timeout at most 24 h, a machine type Cloud Build offers and does not deprecate.", "googleapis google/devtools/cloudbuild/v1/cloudbuild.proto (BuildOptions)", ({ name, config }) => {
    const out: string[] = [];
    if (!(config.options.diskSizeGb > 0 && config.options.diskSizeGb <= CLOUD_BUILD_LIMITS.maxDiskSizeGb)) out.push(`${name}: diskSizeGb ${config.options.diskSizeGb}`);
    const timeout = Number(/^(\d+)s$/.exec(config.timeout)?.[1]);
    if (!(timeout > 0 && timeout <= CLOUD_BUILD_LIMITS.maxTimeoutSeconds)) out.push(`${name}: timeout ${config.timeout}`);
    if (!CLOUD_BUILD_LIMITS.machineTypes.has(config.options.machineType)) out.push(`${name}: machineType ${config.options.machineType}`);
    return out;
  }),
  perBuild(
    "build/logs-with-service-account",
    "A build run as its own service account logs to Cloud Logging or a bucket of its own, never the default logs bucket.",
    "https://cloud.google.com/build/docs/securing-builds/configure-user-specified-service-accounts",
    ({ name, config }) => (config.options.logging === "CLOUD_LOGGING_ONLY" || config.logsBucket ? [] : [`${name}: options.logging is ${config.options.logging ?? "unset"}`]),
  ),
  perBuild("build/secret-env", "Every secretEnv a step reads is declared in availableSecrets.", "https://cloud.google.com/build/docs/securing-builds/use-secrets", ({ name, config }) => {
    const declared = new Set((config.availableSecrets?.secretManager ?? []).map((s) => s.env));
    return config.steps.flatMap((s) => (s.secretEnv ?? []).filter((e) => !declared.has(e)).map((e) => `${name}: secretEnv ${e} is not in availableSecrets`));
  }),
];
