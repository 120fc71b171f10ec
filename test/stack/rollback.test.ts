/**
 * Rolling back never deletes what holds data or an identity: the runbook's commands (docs/operations.md, "Roll back
 * an image") replayed as offline runs of the prod stack, and the switch to a prebuilt image the issue describes.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, test, vi } from "vitest";
import { runOffline, type OfflineRun } from "../../scripts/offline";
import { readProjectFile, readStackConfig } from "../../scripts/stackFiles";

const ROOT = path.resolve(__dirname, "../..");
/** Resource types whose deletion loses data (images, weights, objects, secrets) or an identity and its grants. */
const STATEFUL = [
  "gcp:artifactregistry/repository:Repository",
  "gcp:storage/bucket:Bucket",
  "gcp:secretmanager/secret:Secret",
  "gcp:secretmanager/secretVersion:SecretVersion",
  "gcp:serviceaccount/account:Account",
  "gcp:projects/iAMCustomRole:IAMCustomRole",
  "cloudflare:index/r2Bucket:R2Bucket",
];
const OLDER = "us-central1-docker.pkg.dev/acme-imagegen-prod/imagegen-images/model-server@sha256:" + "0".repeat(63) + "1";

async function prod(change: (config: Record<string, string>) => void = () => undefined): Promise<OfflineRun> {
  const files = readStackConfig(ROOT, "prod");
  const config = { ...files.config };
  change(config);
  // A fresh import of the program for each run (the harness does the same).
  vi.resetModules();
  return runOffline({ project: readProjectFile(ROOT).name, stack: "prod", config, secretKeys: files.secretKeys, now: "2026-11-29T12:00:00Z", importProgram: () => import(path.join(ROOT, "index.ts")) });
}
const stateful = (run: OfflineRun) => run.resources.filter((r) => STATEFUL.includes(r.type)).map((r) => r.urn);
const serviceImage = (run: OfflineRun) => (run.resources.find((r) => r.type === "gcp:cloudrunv2/service:Service")!.inputs as any).template.containers[0].image;
const buildCommand = (run: OfflineRun) => run.resources.find((r) => r.type === "command:local:Command" && String(r.inputs.create).includes("submit-build"));

/** The `pulumi config set|rm warmstart:KEY [VALUE]` lines of the runbook's rollback section, in order. */
function runbookSteps(): string[][] {
  const doc = fs.readFileSync(path.join(ROOT, "docs/operations.md"), "utf8");
  const section = /## Roll back an image\n([\s\S]*?)\n## /.exec(doc)![1];
  const blocks = [...section.matchAll(/```bash\n([\s\S]*?)```/g)].map((b) => b[1]);
  return blocks.map((b) => b.split("\n").filter((l) => /^pulumi config (set|rm) /.test(l)));
}

describe("rolling back an image", () => {
  test("the runbook's steps, replayed, move only the service's image and delete nothing that holds data", async () => {
    const steps = runbookSteps();
    expect(steps.flat().length, "the runbook has config commands").toBeGreaterThan(0);
    const config: Record<string, string> = {};
    const before = await prod();
    let previous = before;
    for (const block of steps) {
      for (const line of block) {
        const [, verb, key, value] = /^pulumi config (set|rm) (\S+)(?: (.+))?$/.exec(line)!;
        if (verb === "set") config[key] = value.replace("<digest>", OLDER.split("@sha256:")[1]);
        else config[key] = "\u0000rm";
      }
      const next = await prod((c) => {
        for (const [k, v] of Object.entries(config)) if (v === "\u0000rm") delete c[k];
        else c[k] = v;
      });
      expect(stateful(next)).toEqual(expect.arrayContaining(stateful(previous)));
      // The build is kept as it was: it does not run again.
      expect(buildCommand(next)?.inputs.triggers).toEqual(buildCommand(before)?.inputs.triggers);
      previous = next;
    }
    const pinned = await prod((c) => (c["warmstart:image"] = OLDER));
    expect(serviceImage(pinned)).toBe(OLDER);
    expect(serviceImage(previous)).toBe(serviceImage(before));
  });

  test("switching prod to a prebuilt older image deletes nothing that holds data or an identity", async () => {
    const before = await prod();
    const after = await prod((c) => {
      c["warmstart:imageBuild"] = "none";
      c["warmstart:image"] = OLDER;
    });
    expect(stateful(after).sort()).toEqual(expect.arrayContaining(stateful(before)));
    expect(serviceImage(after)).toBe(OLDER);
    expect(buildCommand(after)).toBeUndefined();
    // The repository, the build account, the staging bucket and the models access secret are all still there.
    expect(stateful(after).filter((u) => /images|image-builder|-src|models-access/.test(u)).length).toBeGreaterThanOrEqual(5);
  });
});
