import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { afterAll, describe, expect, test } from "vitest";
import { runOffline } from "../../scripts/offline";
import { readStackConfig, SECRET_PLACEHOLDER } from "../../scripts/stackFiles";

const ROOT = path.resolve(__dirname, "../..");
const TSX = path.join(ROOT, "node_modules", ".bin", "tsx");
const synth = (...args: string[]) => spawnSync(TSX, ["scripts/synth.ts", ...args], { cwd: ROOT, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "warmstart-synth-"));
const tempStacks: string[] = [];
const writeStack = (name: string, yaml: string) => {
  const file = path.join(ROOT, `Pulumi.${name}.yaml`);
  fs.writeFileSync(file, yaml);
  tempStacks.push(file);
};
afterAll(() => tempStacks.forEach((f) => fs.rmSync(f, { force: true })));

describe("npm run synth", () => {
  const jsonFile = path.join(tmp, "plan.json");
  // No --stack: prod is the default, as for npm run plan.
  const result = synth("--json", jsonFile, "--now", "2026-11-27T19:00:00Z");

  test("prints the plan of the prod stack offline and exits 0", () => {
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^warmstart plan for stack "prod"/);
    expect(result.stdout).toContain("warmstart:service:GpuService  imagegen");
    expect(result.stdout).toMatch(/gpu=nvidia-l4 x1 cpu=8 memory=32Gi/);
    expect(result.stdout).toContain("Warm schedule (America/Chicago");
    expect(result.stdout).toMatch(/fri {2}from 00:00: 0 {3}08:55→1 {2}17:55→2 {2}23:30→0/);
  });

  test("starts with a summary (service, warm hours, cost, resources, warnings) before the details, within 100 columns", () => {
    const lines = result.stdout.split("\n");
    const at = (heading: string) => lines.findIndex((l) => l.startsWith(heading));
    expect(at("Summary:")).toBe(2);
    expect(at("Summary:")).toBeLessThan(at("Warm schedule"));
    expect(at("Warm schedule")).toBeLessThan(at("Resources ("));
    const summary = lines.slice(at("Summary:"), at("Summary:") + 12).join("\n");
    expect(summary).toMatch(/service +imagegen in us-central1: 1 NVIDIA L4, 8 vCPU, 32Gi, 0\.\.2 instances/);
    expect(summary).toMatch(/warm +\d+\.\d instance-hours a week in 3 window\(s\), America\/Chicago; 9 scheduler jobs/);
    expect(summary).toMatch(/cost +\$\d+\.\d\d a month/);
    expect(summary).toMatch(new RegExp(`warnings +${lines.filter((l) => l.startsWith("  ! ")).length} \\(below\\)`));
    // Piped output wraps at 100 columns; only a single long word (a URL) may run past.
    for (const l of lines.filter((x) => x.length > 100)) expect(l.trim(), l).not.toContain(" ");
  });

  test("marks what the mocks made up: no project number, digest or id that looks real", () => {
    expect(result.stdout).toContain("serviceUrl: https://imagegen-<project number>.us-central1.run.app");
    expect(result.stdout).toMatch(/imageDigest: sha256:<digest>/);
    // An image digest is the registry's; a build's trigger (a content hash computed here) is real and stays.
    expect(result.stdout).not.toMatch(/(@|Digest: )sha256:[0-9a-f]{64}/);
    expect(result.stdout).not.toMatch(/-uc\.a\.run\.app/);
  });

  test("warns while the example's made-up values are still in the stack", () => {
    expect(result.stdout).toContain('! gcp:project is still the example\'s made-up value "acme-imagegen-prod": set your own');
    expect(result.stdout).toContain('! warmstart:billingAccount is still the example\'s made-up value "0A1B2C-3D4E5F-6A7B8C"');
    expect(result.stdout).toContain("! warmstart:invokers still names the example's made-up acme-imagegen-prod.iam.gserviceaccount.com");
  });

  test("--now pins the clock: Friday 13:00 in Chicago deploys with 1 min instance", () => {
    expect(result.stdout).toMatch(/minInstancesAtDeploy: 1/);
    const night = synth("--stack", "prod", "--now", "2026-11-28T08:00:00Z");
    expect(night.stdout).toMatch(/minInstancesAtDeploy: 0/);
  });

  test("--json writes every resource with urn, type, name, parent, dependencies and resolved inputs, and the outputs", () => {
    const doc = JSON.parse(fs.readFileSync(jsonFile, "utf8"));
    expect(Object.keys(doc).sort()).toEqual(["outputs", "resources"]);
    const urns = new Set(doc.resources.map((r: any) => r.urn));
    for (const r of doc.resources) {
      expect(Object.keys(r).sort()).toEqual(["dependencies", "inputs", "name", "parent", "type", "urn"]);
      expect(r.urn).toMatch(/^urn:pulumi:prod::warmstart::/);
      for (const d of r.dependencies) expect(urns).toContain(d);
    }
    // Implicit (an input from another resource) and explicit (dependsOn) dependencies both appear.
    const byType = (t: string) => doc.resources.filter((r: any) => r.type === t);
    const [service] = byType("gcp:cloudrunv2/service:Service");
    const runtimeAccount = byType("gcp:serviceaccount/account:Account").find((r: any) => r.inputs.accountId.endsWith("-run"));
    expect(service.dependencies).toContain(runtimeAccount.urn);
    const build = byType("command:local:Command").find((r: any) => r.name.endsWith("-cloudbuild"));
    const builderLogs = byType("gcp:projects/iAMMember:IAMMember").find((r: any) => r.inputs.role === "roles/logging.logWriter" && r.inputs.member.includes("-image-build@"));
    expect(build.dependencies).toContain(builderLogs.urn);
    expect(service.parent).toBe("urn:pulumi:prod::warmstart::warmstart:service:GpuService::imagegen");
    expect(service.inputs.template.containers[0].image).toMatch(/@sha256:[0-9a-f]{64}$/);
    expect(doc.outputs.serviceUrl).toMatch(/^https:\/\/imagegen-/);
    const secretVersion = doc.resources.find((r: any) => r.type === "gcp:secretmanager/secretVersion:SecretVersion");
    expect(secretVersion.inputs.secretData).toBe("[secret]");
  });

  test("invalid config: exit 1 with the configuration error alone", () => {
    writeStack("synthtest-bad", "config:\n  gcp:project: acme-test-123\n  gcp:region: us-central1\n  warmstart:modelsDomain: m.example.com\n  warmstart:maxInstances: lots\n  warmstart:cpu: 3\n");
    const bad = synth("--stack", "synthtest-bad");
    expect(bad.status).toBe(1);
    expect(bad.stdout).toBe("");
    expect(bad.stderr).toMatch(/^Invalid stack configuration \(2 problems\):\n {2}warmstart:cpu: must be an integer 4\.\.8, got "3"\n {2}warmstart:maxInstances: must be an integer 1\.\.100, got "lots"\n/);
  });

  test("a secret stored in plain text in the stack file: exit 1 as pulumi up would, without printing it", () => {
    writeStack(
      "synthtest-plain",
      "config:\n  gcp:project: acme-test-123\n  gcp:region: us-central1\n  warmstart:modelsDomain: m.example.com\n  warmstart:modelsAccessKey: plain-text-key-4f2a\n",
    );
    const plain = synth("--stack", "synthtest-plain");
    expect(plain.status).toBe(1);
    expect(plain.stdout).toBe("");
    expect(plain.stderr).toMatch(/^Invalid stack configuration \(1 problem\):\n {2}warmstart:modelsAccessKey: is stored in plain text in the stack file; .*pulumi config set --secret warmstart:modelsAccessKey/);
    expect(plain.stderr).not.toContain("plain-text-key-4f2a");
  });

  test("a stack without a file, or a bad --now, is a usage error that says what to do", () => {
    const missing = synth("--stack", "nope");
    expect(missing.status).toBe(2);
    // Offline there is no backend for `pulumi stack init`: the way forward is a copy of an example.
    expect(missing.stderr).toMatch(/no stack file Pulumi\.nope\.yaml \(stacks here: .*prod.*\)\. Start from an example and edit its MADE-UP values: cp Pulumi\.prod\.yaml Pulumi\.nope\.yaml, or cp examples\/stacks\/Pulumi\.\w+\.yaml Pulumi\.nope\.yaml/);
    expect(missing.stderr).not.toMatch(/\n\s+at /);
    const now = synth("--stack", "prod", "--now", "tomorrow");
    expect(now.status).toBe(2);
    expect(now.stderr).toMatch(/--now must be an ISO 8601 instant/);
  });
});

test("the plan stands in for a needed secret the example stack cannot hold, and leaves optional ones unset", () => {
  const files = readStackConfig(path.resolve(__dirname, "../.."), "prod");
  expect(files.config["warmstart:modelsAccessKey"]).toBe(SECRET_PLACEHOLDER);
  expect(files.secretKeys).toContain("warmstart:modelsAccessKey");
  expect(files.config).not.toHaveProperty("warmstart:huggingFaceToken");
});

test("only encrypted (secure:) values and stand-ins count as secrets, not a plain value under a secret key", () => {
  const file = path.join(tmp, "Pulumi.plain.yaml");
  fs.writeFileSync(file, "config:\n  warmstart:modelsAccessKey: plain-value\n  warmstart:huggingFaceToken:\n    secure: v1:abc\n");
  const files = readStackConfig(ROOT, "plain", file);
  expect(files.config["warmstart:modelsAccessKey"]).toBe("plain-value");
  expect(files.secretKeys).not.toContain("warmstart:modelsAccessKey");
  expect(files.secretKeys).toContain("warmstart:huggingFaceToken");
});

describe("the offline runner (synth and every test under the harness)", () => {
  class Binding extends pulumi.CustomResource {
    constructor(name: string, props: pulumi.Inputs, opts: pulumi.CustomResourceOptions) {
      super("test:index:Binding", name, props, opts);
    }
  }
  // Two components of one type, each with a child of the same name: one URN, as with any two same-named siblings.
  class Group extends pulumi.ComponentResource {
    constructor(name: string, member: string) {
      super("test:index:Group", name, {}, {});
      new Binding("reader", { role: "roles/viewer", member }, { parent: this });
      this.registerOutputs({});
    }
  }

  test("fails as the engine would when two resources share a URN, naming the URN and both resources", async () => {
    const program = async () => {
      new Group("a", "user:john.doe@acme.com");
      new Group("b", "user:john-doe@acme.com");
      return {};
    };
    const error = (await runOffline({ project: "p", stack: "s", config: {}, importProgram: program }).catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(Error);
    expect(error.message).toMatch(/^Duplicate resource URN 'urn:pulumi:s::p::test:index:Group\$test:index:Binding::reader': the engine refuses a second resource with it; give each a unique name\n/);
    expect(error.message).toContain('\n  first:  test:index:Binding "reader", parent urn:pulumi:s::p::test:index:Group::a, member: "user:john.doe@acme.com"');
    expect(error.message).toContain('\n  second: test:index:Binding "reader", parent urn:pulumi:s::p::test:index:Group::b, member: "user:john-doe@acme.com"');
  });

  test("distinct URNs run as before", async () => {
    const run = await runOffline({ project: "p", stack: "s", config: {}, importProgram: async () => (new Group("a", "user:x@acme.com"), {}) });
    expect(run.resources.map((r) => r.name).sort()).toEqual(["a", "reader"]);
  });
});
