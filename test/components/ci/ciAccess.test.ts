import { describe, expect, test } from "vitest";
import { DEPLOY_ROLES, REPLAN_ROLES, repositoryCondition } from "../../../components/ci/ciAccess";
import { runStack } from "../../harness";

const CI = { "warmstart:githubRepository": "acme/imagegen-infra", "warmstart:stateBucket": "acme-pulumi-state" };

describe("CI access", () => {
  test("a GitHub OIDC provider that admits only the configured repository", async () => {
    const run = await runStack(CI);
    const p = run.one("gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider").inputs as any;
    expect(p.oidc).toEqual({ issuerUri: "https://token.actions.githubusercontent.com" });
    expect(p.attributeCondition).toBe('assertion.repository == "acme/imagegen-infra"');
    expect(p.attributeMapping["attribute.repository"]).toBe("assertion.repository");
  });

  test("the pool id carries a random suffix (pool ids cannot be reused for 30 days)", async () => {
    const run = await runStack(CI);
    expect(run.one("gcp:iam/workloadIdentityPool:WorkloadIdentityPool").inputs.workloadIdentityPoolId).toMatch(/^github-[a-z0-9]{6}$/);
    expect(run.one("random:index/randomString:RandomString").inputs).toMatchObject({ length: 6, upper: false, special: false });
  });

  test("only the prod environment on main may impersonate the deploy account: no pull request, no other branch", async () => {
    const run = await runStack(CI);
    const provider = run.one("gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider").inputs as any;
    const binding = run.ofType("gcp:serviceaccount/iAMMember:IAMMember").find((m) => m.inputs.role === "roles/iam.workloadIdentityUser")!;
    expect(binding.inputs.serviceAccountId).toBe("projects/acme-test-123/serviceAccounts/warmstart-deploy@acme-test-123.iam.gserviceaccount.com");
    const m = /^principalSet:\/\/iam\.googleapis\.com\/projects\/\d+\/locations\/global\/workloadIdentityPools\/github-[a-z0-9]{6}\/attribute\.([a-z_]+)\/(.+)$/.exec(String(binding.inputs.member))!;
    // What the provider maps from a GitHub token, evaluated as Google would for the `a + "b" + c` form used here.
    const mapped = (claims: Record<string, string>) =>
      String(provider.attributeMapping[`attribute.${m[1]}`])
        .split(" + ")
        .map((part) => (part.startsWith('"') ? JSON.parse(part) : claims[part.replace(/^assertion\./, "")]))
        .join("");
    const admitted = (claims: Record<string, string>) => mapped({ repository: claims.sub.split(":")[1], ...claims }) === m[2];
    const repo = "acme/imagegen-infra";
    expect(admitted({ sub: `repo:${repo}:environment:prod`, ref: "refs/heads/main" })).toBe(true);
    expect(admitted({ sub: `repo:${repo}:pull_request`, ref: "refs/pull/7/merge" })).toBe(false);
    // A pull request job, or a branch's own workflow, that names the prod environment.
    expect(admitted({ sub: `repo:${repo}:environment:prod`, ref: "refs/pull/7/merge" })).toBe(false);
    expect(admitted({ sub: `repo:${repo}:environment:prod`, ref: "refs/heads/evil" })).toBe(false);
    // main without the environment (its reviewers), and another repository.
    expect(admitted({ sub: `repo:${repo}:ref:refs/heads/main`, ref: "refs/heads/main" })).toBe(false);
    expect(admitted({ sub: "repo:evil/imagegen-infra:environment:prod", ref: "refs/heads/main" })).toBe(false);
  });

  test("the deploy account holds exactly the listed project roles, never owner or editor, and state bucket access", async () => {
    const run = await runStack(CI);
    const deployer = "serviceAccount:warmstart-deploy@acme-test-123.iam.gserviceaccount.com";
    const projectRoles = run.ofType("gcp:projects/iAMMember:IAMMember").filter((m) => m.inputs.member === deployer).map((m) => m.inputs.role);
    expect(projectRoles.sort()).toEqual(Object.keys(DEPLOY_ROLES).sort());
    expect(projectRoles).not.toContain("roles/owner");
    expect(projectRoles).not.toContain("roles/editor");
    const state = run.ofType("gcp:storage/bucketIAMMember:BucketIAMMember").filter((m) => m.inputs.member === deployer);
    expect(state.map((m) => m.inputs)).toEqual([expect.objectContaining({ bucket: "acme-pulumi-state", role: "roles/storage.objectAdmin" })]);
  });

  test("with a KMS secrets key and a billing account, it may use the key and manage budgets", async () => {
    const run = await runStack({
      ...CI,
      "warmstart:secretsKmsKey": "projects/acme-test-123/locations/global/keyRings/pulumi/cryptoKeys/stack",
      "warmstart:billingAccount": "0A1B2C-3D4E5F-6A7B8C",
      "warmstart:monthlyBudget": "500",
    });
    expect(run.one("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember").inputs).toMatchObject({ role: "roles/cloudkms.cryptoKeyEncrypterDecrypter" });
    expect(run.one("gcp:billing/accountIamMember:AccountIamMember").inputs).toMatchObject({ billingAccountId: "0A1B2C-3D4E5F-6A7B8C", role: "roles/billing.costsManager" });
  });

  test("exports what the workflows need", async () => {
    const run = await runStack(CI);
    expect(run.outputs.workloadIdentityProvider).toMatch(/\/workloadIdentityPools\/github-[a-z0-9]{6}\/providers\/github$/);
    expect(run.outputs.deployServiceAccount).toBe("warmstart-deploy@acme-test-123.iam.gserviceaccount.com");
  });

  test("off without githubRepository; the state bucket is required with it", async () => {
    expect((await runStack()).ofType("gcp:iam/workloadIdentityPool:WorkloadIdentityPool")).toEqual([]);
    const error = (await runStack({ "warmstart:githubRepository": "acme/x" }).catch((e: unknown) => e)) as Error;
    expect(error.message).toMatch(/warmstart:stateBucket: is required when warmstart:githubRepository is set/);
    const bad = (await runStack({ ...CI, "warmstart:githubRepository": "https://github.com/acme/x" }).catch((e: unknown) => e)) as Error;
    expect(bad.message).toMatch(/warmstart:githubRepository: must be owner\/name/);
  });

  test("the replan account is reachable only from replan.yml on main, and may only read the request log", async () => {
    const run = await runStack(CI);
    const provider = run.one("gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider").inputs as any;
    expect(provider.attributeMapping["attribute.replan"]).toBe("assertion.workflow_ref");
    const replan = "serviceAccount:warmstart-replan@acme-test-123.iam.gserviceaccount.com";
    const binding = run.ofType("gcp:serviceaccount/iAMMember:IAMMember").find((m) => String(m.inputs.serviceAccountId).includes("warmstart-replan@"))!;
    expect(binding.inputs.role).toBe("roles/iam.workloadIdentityUser");
    const value = /\/attribute\.replan\/(.+)$/.exec(String(binding.inputs.member))![1];
    expect(value).toBe("acme/imagegen-infra/.github/workflows/replan.yml@refs/heads/main");
    // What a pull request's run, or a branch's own copy of the workflow, would present as workflow_ref.
    for (const other of ["acme/imagegen-infra/.github/workflows/replan.yml@refs/pull/7/merge", "acme/imagegen-infra/.github/workflows/replan.yml@refs/heads/evil", "acme/imagegen-infra/.github/workflows/deploy.yml@refs/heads/main"]) {
      expect(other).not.toBe(value);
    }
    const grants = run.ofType("gcp:projects/iAMMember:IAMMember").filter((m) => m.inputs.member === replan);
    expect(grants.map((g) => g.inputs.role).sort()).toEqual(Object.keys(REPLAN_ROLES).sort());
    const view = grants.find((g) => g.inputs.role === "roles/logging.viewAccessor")!.inputs as any;
    expect(view.condition.expression).toBe('resource.name == "projects/acme-test-123/locations/global/buckets/warmstart-requests/views/_AllLogs"');
    expect(run.outputs.replanServiceAccount).toBe("warmstart-replan@acme-test-123.iam.gserviceaccount.com");
  });

  test("the condition quotes the repository exactly", () => {
    expect(repositoryCondition("a/b")).toBe('assertion.repository == "a/b"');
  });
});

test("docs/operations.md lists every deploy role with its reason", async () => {
  const fs = await import("node:fs");
  const path = await import("node:path");
  const doc = fs.readFileSync(path.resolve(__dirname, "../../../docs/operations.md"), "utf8");
  const rows = [...doc.matchAll(/^ {3}\| `(roles\/[^`]+)` \| (.+) \|$/gm)].map((m) => [m[1], m[2]]);
  expect(Object.fromEntries(rows)).toEqual(DEPLOY_ROLES);
});

test("the deploy account edits no IAM beyond the stack's resources: no IAM admin role, and acts as each workload account alone", async () => {
  const run = await runStack({ ...CI, "warmstart:billingAccount": "0A1B2C-3D4E5F-6A7B8C", "warmstart:monthlyBudget": "500" });
  const deployer = "serviceAccount:warmstart-deploy@acme-test-123.iam.gserviceaccount.com";
  const projectRoles = run.ofType("gcp:projects/iAMMember:IAMMember").filter((m) => m.inputs.member === deployer).map((m) => String(m.inputs.role));
  for (const r of ["roles/iam.serviceAccountAdmin", "roles/iam.serviceAccountUser", "roles/iam.roleAdmin", "roles/resourcemanager.projectIamAdmin", "roles/iam.securityAdmin"]) {
    expect(projectRoles).not.toContain(r);
  }
  const actsAs = run.ofType("gcp:serviceaccount/iAMMember:IAMMember").filter((m) => m.inputs.member === deployer);
  expect(actsAs.every((m) => m.inputs.role === "roles/iam.serviceAccountUser")).toBe(true);
  expect(actsAs.map((m) => String(m.inputs.serviceAccountId).replace(/^.*serviceAccounts\/warmstart-|@.*$/g, "")).sort()).toEqual(
    ["gbuild", "guard", "image-build", "invoke", "run", "sched"].sort(),
  );
});
