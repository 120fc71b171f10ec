import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { KEYS } from "../../config/keys";
import { REQUIRED_OUTPUTS, GUARD_OUTPUTS, targetsFromOutputs } from "../../scripts/guard-reset";
import { projectTempDir, runStack, type StackRun } from "../harness";

const BUDGET = { "warmstart:billingAccount": "0A1B2C-3D4E5F-6A7B8C", "warmstart:monthlyBudget": "600", "warmstart:warmWindows": "weekdays 09:00-21:00", "warmstart:guardMaxInstances": "1" };

let run: StackRun;
beforeAll(async () => {
  run = await runStack(BUDGET);
});

describe("the stack outputs the runbooks use", () => {
  const env = (type: string) => (run.one(type).inputs as any);

  test("warmJobResourceNames are the jobs the guard pauses and a deploy re-pauses, as gcloud takes them without --location", () => {
    const names = run.outputs.warmJobResourceNames as string[];
    expect(names).toHaveLength(3);
    for (const n of names) expect(n).toMatch(/^projects\/acme-test-123\/locations\/us-central1\/jobs\/warmstart-[a-z0-9-]+$/);
    expect(env("gcp:cloudfunctionsv2/function:Function").serviceConfig.environmentVariables.GUARD_JOBS).toBe(names.join(","));
    expect((run.command("reconcile").inputs as any).environment.RECONCILE_JOBS).toBe(names.join(","));
    expect(run.outputs.warmJobNames).toEqual(names.map((n) => n.split("/").pop()));
    expect(run.ofType("gcp:cloudscheduler/job:Job").map((j) => j.inputs.name)).toEqual(run.outputs.warmJobNames);
  });

  test("warmJobs stays the readable view (cron, zone, level), not names", () => {
    expect(run.outputs.warmJobs).toEqual(["55 8 * * 1-5 (UTC) -> 1", "0 21 * * 1-5 (UTC) -> 0"]);
  });

  test("the service, the schedule and the guard's state are what the guard acts on", () => {
    const guardEnv = env("gcp:cloudfunctionsv2/function:Function").serviceConfig.environmentVariables;
    expect(run.outputs.serviceResourceName).toBe(guardEnv.GUARD_SERVICE);
    expect(run.outputs.warmScheduleEdges).toEqual(JSON.parse(guardEnv.GUARD_SCHEDULE));
    expect(run.outputs.guardStateObject).toBe(guardEnv.GUARD_STATE);
    expect(run.outputs.guardSettings).toEqual({ ratio: 1, monthlyBudget: 600, maxInstances: 1, dailySpendLimit: 0, dailyThresholdSeconds: 0, timeZone: "UTC" });
  });

  test("npm run guard:reset reads every output it needs from them", () => {
    for (const k of [...REQUIRED_OUTPUTS, ...GUARD_OUTPUTS]) expect(run.outputs, k).toHaveProperty(k);
    expect(targetsFromOutputs(run.outputs, "test")).toMatchObject({ service: run.outputs.serviceResourceName, jobs: run.outputs.warmJobResourceNames, budget: { ratio: 1, monthlyBudget: 600 } });
  });
});

// ---------------------------------------------------------------------------------------------------------------
// The commands of docs/operations.md, README.md and the docs that took the README's long sections: every output,
// npm script, flag, config key and gcloud command they name exists; the day-2 runbooks parse as shell and run, as
// pasted, against stand-ins.
// ---------------------------------------------------------------------------------------------------------------

const ROOT = path.resolve(__dirname, "../..");
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), "utf8");
const DOCS = [
  "docs/operations.md",
  "README.md",
  "docs/synth.md",
  "docs/warm-windows.md",
  "docs/planner.md",
  "docs/cost-and-budget.md",
  "docs/models-bucket.md",
  "docs/image.md",
  "docs/observability.md",
] as const;
/** Sections whose every command must be copy-pasteable (no <placeholder>) and is run here against stand-ins. */
const DAY2 = ["When the budget guard trips", "Is it warm right now?", "Tear it all down"];

interface Block {
  readonly file: string;
  readonly section: string;
  readonly code: string;
}

/** The ```bash blocks of a Markdown file, with the heading each sits under (list items indent theirs). */
function bashBlocks(file: string): Block[] {
  const blocks: Block[] = [];
  let section = "";
  let open: { indent: number; lines: string[] } | undefined;
  for (const line of read(file).split("\n")) {
    if (open) {
      if (/^\s*```\s*$/.test(line)) {
        blocks.push({ file, section, code: open.lines.join("\n") });
        open = undefined;
      } else open.lines.push(line.slice(Math.min(open.indent, line.length - line.trimStart().length)));
      continue;
    }
    const heading = /^#{1,6} (.+)$/.exec(line);
    if (heading) section = heading[1].trim();
    const fence = /^(\s*)```bash\s*$/.exec(line);
    if (fence) open = { indent: fence[1].length, lines: [] };
  }
  return blocks;
}

/** Inline code spans outside fenced blocks: commands named in prose are held to the same names. */
function inlineSpans(file: string): string[] {
  return read(file)
    .replace(/```[\s\S]*?```/g, "")
    .split(/`/)
    .filter((_, i) => i % 2 === 1);
}

/**
 * Simple commands of a shell text: continuations joined, comments dropped, split at pipes, lists and command
 * substitutions, each as its words with quotes removed. Enough for the docs' commands; not a shell parser.
 */
function simpleCommands(code: string): string[][] {
  const commands: string[][] = [];
  for (const line of code.replace(/\\\n/g, " ").split("\n")) {
    let words: string[] = [];
    let word = "";
    let quote: "'" | '"' | undefined;
    // The quoting around each open $( ... ): a command substitution starts unquoted, even inside "...".
    const outer: ("'" | '"' | undefined)[] = [];
    const endWord = () => {
      if (word !== "") words.push(word);
      word = "";
    };
    const endCommand = () => {
      endWord();
      if (words.length > 0) commands.push(words);
      words = [];
    };
    for (let i = 0; i < line.length; i++) {
      const c = line[i];
      if (quote === "'") {
        if (c === "'") quote = undefined;
        else word += c;
      } else if (c === "$" && line[i + 1] === "(") {
        endCommand();
        outer.push(quote);
        quote = undefined;
        i++;
      } else if (c === ")" && outer.length > 0) {
        endCommand();
        quote = outer.pop();
      } else if (quote === '"') {
        if (c === '"') quote = undefined;
        else word += c;
      } else if (c === "'" || c === '"') quote = c;
      else if (c === ")" || c === "|" || c === ";" || c === "&" || c === "`") endCommand();
      else if (/\s/.test(c)) endWord();
      else if (c === "#" && word === "") break;
      else word += c;
    }
    endCommand();
  }
  return commands.map((w) => w.filter((x, i) => !(i === 0 && /^[A-Z_]+=/.test(x)))).filter((w) => w.length > 0);
}

const EXPORTS = new Set([...read("index.ts").matchAll(/^export const (\w+)/gm)].map((m) => m[1]));
const SCRIPTS = JSON.parse(read("package.json")).scripts as Record<string, string>;
const CONFIG_KEYS = new Set(Object.keys(KEYS));

/**
 * Every gcloud command the docs use, with its reference page and the flags checked there; a new one is added here
 * with its page. Flags every command takes (GCLOUD WIDE FLAGS on each page) are allowed everywhere.
 */
const GCLOUD: Record<string, { readonly doc: string; readonly flags?: readonly string[] }> = {
  "auth login": { doc: "https://cloud.google.com/sdk/gcloud/reference/auth/login" },
  "auth application-default login": { doc: "https://cloud.google.com/sdk/gcloud/reference/auth/application-default/login" },
  "auth print-access-token": { doc: "https://cloud.google.com/sdk/gcloud/reference/auth/print-access-token" },
  "auth print-identity-token": { doc: "https://cloud.google.com/sdk/gcloud/reference/auth/print-identity-token", flags: ["--audiences", "--include-email"] },
  "storage buckets create": { doc: "https://cloud.google.com/sdk/gcloud/reference/storage/buckets/create" },
  "storage buckets update": { doc: "https://cloud.google.com/sdk/gcloud/reference/storage/buckets/update" },
  "storage cat": { doc: "https://cloud.google.com/sdk/gcloud/reference/storage/cat", flags: ["--display-url", "--range"] },
  "storage rm": { doc: "https://cloud.google.com/sdk/gcloud/reference/storage/rm", flags: ["--recursive", "--all-versions", "--if-generation-match", "--continue-on-error"] },
  "kms keyrings create": { doc: "https://cloud.google.com/sdk/gcloud/reference/kms/keyrings/create" },
  "kms keys create": { doc: "https://cloud.google.com/sdk/gcloud/reference/kms/keys/create" },
  "kms keys versions destroy": { doc: "https://cloud.google.com/sdk/gcloud/reference/kms/keys/versions/destroy", flags: ["--key", "--keyring", "--location"] },
  "scheduler jobs resume": { doc: "https://cloud.google.com/sdk/gcloud/reference/scheduler/jobs/resume", flags: ["--location"] },
  "artifacts repositories delete": { doc: "https://cloud.google.com/sdk/gcloud/reference/artifacts/repositories/delete", flags: ["--location", "--async"] },
  "artifacts docker images list": { doc: "https://cloud.google.com/sdk/gcloud/reference/artifacts/docker/images/list" },
  "logging read": { doc: "https://cloud.google.com/sdk/gcloud/reference/logging/read" },
  "run services describe": { doc: "https://cloud.google.com/sdk/gcloud/reference/run/services/describe", flags: ["--region", "--namespace"] },
  "run services proxy": { doc: "https://cloud.google.com/sdk/gcloud/reference/run/services/proxy" },
  "services enable": { doc: "https://cloud.google.com/sdk/gcloud/reference/services/enable" },
  "billing accounts list": { doc: "https://cloud.google.com/sdk/gcloud/reference/billing/accounts/list" },
  "builds submit": { doc: "https://cloud.google.com/sdk/gcloud/reference/builds/submit" },
};
/** GCLOUD WIDE FLAGS, as every reference page lists them (e.g. scheduler/jobs/resume). */
const GCLOUD_WIDE = ["--access-token-file", "--account", "--billing-project", "--configuration", "--flags-file", "--flatten", "--format", "--help", "--impersonate-service-account", "--log-http", "--project", "--quiet", "--trace-token", "--user-output-enabled", "--verbosity"];

/** What is wrong with one simple command, if anything. */
function problems(words: string[], where: string): string[] {
  const found: string[] = [];
  const [cmd, ...args] = words;
  if (cmd === "pulumi" && args[0] === "stack" && args[1] === "output") {
    const rest = args.slice(2);
    const name = rest.find((w, i) => !w.startsWith("-") && !["--stack", "-s"].includes(rest[i - 1]));
    if (name && !EXPORTS.has(name)) found.push(`${where}: pulumi stack output ${name}: index.ts exports no such output`);
  }
  if (cmd === "pulumi" && args[0] === "config" && (args[1] === "set" || args[1] === "rm")) {
    const key = args.find((w) => w.startsWith("warmstart:"));
    const name = key?.slice("warmstart:".length).split(/[[.]/)[0];
    if (name && !CONFIG_KEYS.has(name)) found.push(`${where}: ${key}: not a key of config/parse.ts (KEYS)`);
  }
  if (cmd === "npm" && args[0] === "run") {
    const name = args.slice(1).find((w) => !w.startsWith("-"));
    if (!name || !(name in SCRIPTS)) found.push(`${where}: npm run ${name}: no such script in package.json`);
    else {
      const file = /(?:tsx|bash|node) (\S+\.(?:ts|sh|mjs))/.exec(SCRIPTS[name])?.[1];
      const dash = args.indexOf("--");
      if (file && dash >= 0) {
        const source = read(file);
        for (const flag of args.slice(dash + 1).map((w) => w.replace(/^\[/, "")).filter((w) => w.startsWith("--"))) {
          const f = flag.split("=")[0];
          // A flag is declared as "--name" (usage text) or as a key of its command's flags ("name": { type: ... }).
          const declared = source.includes(f) || new RegExp(`["']?${f.slice(2)}["']?\\s*:\\s*\\{\\s*type:`).test(source);
          if (!declared) found.push(`${where}: npm run ${name} -- ${f}: ${file} takes no such flag`);
        }
      }
    }
  }
  if (cmd === "gcloud") {
    const path = args.filter((w, i) => /^[a-z][a-z-]*$/.test(w) && args.slice(0, i).every((p) => /^[a-z][a-z-]*$/.test(p)));
    const known = Object.keys(GCLOUD)
      .filter((k) => path.join(" ").startsWith(k))
      .sort((a, b) => b.length - a.length)[0];
    if (!known) found.push(`${where}: gcloud ${path.join(" ")}: not in this test's list of gcloud commands (add it with its reference page)`);
    else {
      const allowed = GCLOUD[known].flags;
      for (const flag of args.filter((w) => w.startsWith("--")).map((w) => w.split("=")[0])) {
        if (allowed && !allowed.includes(flag) && !GCLOUD_WIDE.includes(flag)) found.push(`${where}: gcloud ${known} ${flag}: not a flag of ${GCLOUD[known].doc}`);
      }
    }
  }
  return found;
}

describe("the commands of the operations guide, the README and the docs", () => {
  const blocks = DOCS.flatMap(bashBlocks);

  test("every output, npm script and flag, config key and gcloud command they name exists", () => {
    const found = [
      ...blocks.flatMap((b) => simpleCommands(b.code).flatMap((w) => problems(w, `${b.file} (${b.section})`))),
      ...DOCS.flatMap((f) => inlineSpans(f).flatMap((s) => simpleCommands(s).flatMap((w) => problems(w, `${f} (inline)`)))),
    ];
    expect(found).toEqual([]);
  });

  test("the day-2 runbooks are copy-pasteable: every block parses as shell, with no <placeholder>", () => {
    const day2 = blocks.filter((b) => DAY2.includes(b.section));
    for (const b of day2) {
      const r = spawnSync("bash", ["-n"], { input: b.code, encoding: "utf8" });
      expect(r.status, `${b.section}:\n${b.code}\n${r.stderr}`).toBe(0);
      expect(b.code, b.section).not.toMatch(/<[a-z][a-z -]*>/i);
    }
    expect(new Set(day2.map((b) => b.section))).toEqual(new Set(DAY2));
  });
});

/**
 * Stand-ins for the commands the day-2 runbooks run, on PATH ahead of the real ones, each logging its arguments:
 * pulumi answers `stack output` from the mocks run of this stack; gcloud and curl refuse what the real ones would
 * (a scheduler job or repository that is neither a full name nor an id with --location, a Cloud Run Admin URL that
 * is not a service's, a request whose token was not substituted) and answer the rest as the API does.
 */
const tempDirs: string[] = [];
afterAll(() => {
  for (const d of tempDirs) fs.rmSync(d, { recursive: true, force: true });
});

function standIns(outputs: Record<string, unknown>): { bin: string; log: string } {
  const dir = projectTempDir("runbooks-");
  tempDirs.push(dir);
  const bin = path.join(dir, "bin");
  const out = path.join(dir, "out");
  fs.mkdirSync(bin);
  fs.mkdirSync(out);
  for (const [name, value] of Object.entries(outputs)) {
    fs.writeFileSync(path.join(out, `${name}.json`), `${JSON.stringify(value)}\n`);
    fs.writeFileSync(path.join(out, name), `${typeof value === "string" ? value : JSON.stringify(value)}\n`);
  }
  const log = path.join(dir, "calls.log");
  fs.writeFileSync(log, "");
  const script = (name: string, body: string) => fs.writeFileSync(path.join(bin, name), `#!/bin/bash\nprintf '%s\\n' "${name} $*" >> ${JSON.stringify(log)}\n${body}\n`, { mode: 0o755 });
  script(
    "pulumi",
    `if [ "$1 $2" = "stack output" ]; then
  shift 2; ext=; name=
  while [ $# -gt 0 ]; do case "$1" in --json) ext=.json;; --stack|-s) shift;; -*) ;; *) name=$1;; esac; shift; done
  f=${JSON.stringify(out)}/$name$ext
  [ -f "$f" ] || { echo "error: current stack does not have output property '$name'" >&2; exit 255; }
  cat "$f"
fi`,
  );
  script(
    "gcloud",
    `full() { [[ "$1" =~ ^projects/[a-z0-9-]+/locations/[a-z0-9-]+/$2/[a-zA-Z0-9_-]+$ ]] || [[ " $* " == *" --location="* && "$1" =~ ^[a-z][a-z0-9-]*$ ]]; }
case "$1 $2 $3" in
  "scheduler jobs resume") full "$4" jobs "$@" || { echo "ERROR: (gcloud.scheduler.jobs.resume) not a job: $4" >&2; exit 1; } ;;
  "artifacts repositories delete") full "$4" repositories "$@" || { echo "ERROR: (gcloud.artifacts.repositories.delete) not a repository: $4" >&2; exit 1; } ;;
esac
case "$1 $2" in
  "auth print-access-token"|"auth print-identity-token") echo fake-token ;;
  "storage cat") [[ "$3" =~ ^gs://[a-z0-9._-]+/.+ ]] || { echo "ERROR: not an object: $3" >&2; exit 1; }; echo '{"version":1,"periods":{}}' ;;
  "storage rm") [[ "$*" == *gs://?* ]] || { echo "ERROR: no gs:// URL" >&2; exit 1; } ;;
esac`,
  );
  script(
    "curl",
    `for a in "$@"; do case "$a" in http*) url=$a;; esac; done
[[ " $* " == *"Authorization: Bearer fake-token"* ]] || { echo "curl: no token in the request" >&2; exit 22; }
case "$url" in
  https://run.googleapis.com/v2/*) [[ "$url" =~ ^https://run.googleapis.com/v2/projects/[a-z0-9-]+/locations/[a-z0-9-]+/services/[a-z0-9-]+([?].*)?$ ]] || { echo "curl: 404 $url" >&2; exit 22; }
    echo '{"name":"x","scaling":{"minInstanceCount":1},"terminalCondition":{"type":"Ready","state":"CONDITION_SUCCEEDED"}}' ;;
  */healthz) echo "200 0.31s" ;;
  *) echo "curl: unexpected URL $url" >&2; exit 22 ;;
esac`,
  );
  script("npm", `[ "$2" = synth ] && echo "  minInstancesAtDeploy: 1"; exit 0`);
  return { bin, log };
}

describe("the day-2 runbooks, run as pasted against stand-ins", () => {
  const sections = Object.fromEntries(DAY2.map((s) => [s, bashBlocks("docs/operations.md").filter((b) => b.section === s).map((b) => b.code).join("\n")]));
  const runSection = (section: string) => {
    const { bin, log } = standIns(run.outputs);
    const r = spawnSync("bash", ["-euo", "pipefail", "-c", sections[section]], { cwd: ROOT, encoding: "utf8", env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } });
    expect(r.status, `${section}:\n${r.stderr}`).toBe(0);
    return fs.readFileSync(log, "utf8").trim().split("\n");
  };

  test("when the guard trips: every job it paused is resumed by its name, and the cap lifted", () => {
    const calls = runSection("When the budget guard trips");
    const resumed = calls.filter((c) => c.startsWith("gcloud scheduler jobs resume ")).map((c) => c.split(" ")[4]);
    expect(resumed.sort()).toEqual([...(run.outputs.warmJobResourceNames as string[])].sort());
    expect(calls).toContain("npm run guard:reset -- --stack prod");
    expect(calls.some((c) => c.startsWith("curl ") && c.includes(`https://run.googleapis.com/v2/${run.outputs.serviceResourceName}?updateMask=scaling.maxInstanceCount`))).toBe(true);
    expect(calls).toContain(`gcloud storage cat ${run.outputs.guardStateObject}`);
  });

  test("is it warm: the schedule's level now, the service's scaling and readiness, and /healthz with an identity token", () => {
    const calls = runSection("Is it warm right now?");
    expect(calls.some((c) => /^npm run synth -- --stack prod --now \d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(c))).toBe(true);
    expect(calls.some((c) => c.startsWith("curl ") && c.endsWith(`https://run.googleapis.com/v2/${run.outputs.serviceResourceName}`))).toBe(true);
    expect(calls.some((c) => c.startsWith("curl ") && c.includes(`${run.outputs.serviceUrl}/healthz`))).toBe(true);
  });

  test("tear down: protection off and applied before destroy, and what destroy leaves deleted by hand", () => {
    const calls = runSection("Tear it all down");
    const at = (call: string) => calls.indexOf(call);
    expect(at("pulumi config set warmstart:deletionProtection false")).toBeGreaterThanOrEqual(0);
    expect(at("pulumi config set warmstart:deletionProtection false")).toBeLessThan(at("pulumi up"));
    expect(at("pulumi up")).toBeLessThan(at("pulumi destroy"));
    // Every resource the stack leaves behind on destroy is deleted by a command of the runbook, after destroy.
    const byHand: Record<string, string> = { "gcp:artifactregistry/repository:Repository": `gcloud artifacts repositories delete ${run.outputs.imageRepository}` };
    const retained = run.resources.filter((r) => r.retainOnDelete);
    expect(retained.length).toBeGreaterThan(0);
    for (const r of retained) {
      expect(byHand, `${r.type} ${r.name} is retained on delete: add its deletion to "Tear it all down" and here`).toHaveProperty([r.type]);
      expect(calls.findIndex((c) => c.startsWith(byHand[r.type]))).toBeGreaterThan(at("pulumi destroy"));
    }
    expect(run.one("gcp:cloudrunv2/service:Service").inputs.deletionProtection).toBe(true);
  });
});
