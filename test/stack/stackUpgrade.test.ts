/**
 * An existing stack must update in place: every resource the last landed version created is, in the new program,
 * the same resource (same URN), the same resource moved (an alias to its old URN, same identity inputs), or removed
 * on purpose (listed below with why). A resource that silently got a new URN would be created anew and the old one
 * deleted: for a service account that loses its bindings, for a custom role its id for 37 days.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { expect, test } from "vitest";
import { runOffline } from "../../scripts/offline";
import { readProjectFile, readStackConfig } from "../../scripts/stackFiles";

const ROOT = path.resolve(__dirname, "../..");
const BEFORE = JSON.parse(fs.readFileSync(path.join(__dirname, "../fixtures/prod-urns-cde31e2.json"), "utf8")) as {
  resources: { urn: string; type: string; accountId?: string; roleId?: string }[];
};

/** Removed on purpose, by URN suffix: the deploy account no longer holds IAM admin powers (#15). */
const REMOVED: Readonly<Record<string, string>> = {
  "imagegen-deployer-iam-serviceAccountAdmin": "the deploy account creates no service accounts (StackIdentities does, from a laptop)",
  "imagegen-deployer-iam-serviceAccountUser": "acting as the stack's accounts is granted on each account, not the project",
  "imagegen-deployer-iam-roleAdmin": "the guard's custom role is made from a laptop (StackIdentities)",
  "imagegen-deployer-resourcemanager-projectIamAdmin": "project-level grants are made from a laptop (StackIdentities)",
  "imagegen-deployer-cloudfunctions-admin": "Cloud Functions Developer is enough: the stack sets no policy on the function",
  "imagegen-deployer-eventarc-admin": "Cloud Functions' own agent creates the guard's trigger, not the caller",
};

test("every resource of the last landed version is kept, moved with an alias, or removed on purpose", async () => {
  const files = readStackConfig(ROOT, "prod");
  const run = await runOffline({
    project: readProjectFile(ROOT).name,
    stack: "prod",
    config: files.config,
    secretKeys: files.secretKeys,
    now: "2026-11-29T12:00:00Z",
    importProgram: () => import(path.join(ROOT, "index.ts")),
  });
  // The engine qualifies a type with every parent type; Pulumi's mock monitor only with the nearest one.
  const recorded = new Map(run.resources.map((r) => [r.urn, r]));
  const engineUrn = (r: (typeof run.resources)[number]) => {
    const types: string[] = [];
    for (let x: typeof r | undefined = r; x; x = x.parent ? recorded.get(x.parent) : undefined) types.unshift(x.type);
    return `urn:pulumi:prod::warmstart::${types.join("$")}::${r.name}`;
  };
  const byUrn = new Map(run.resources.map((r) => [engineUrn(r), r]));
  const byAlias = new Map(run.resources.flatMap((r) => r.aliases.map((a) => [a, r] as const)));
  const unaccounted: string[] = [];
  let moved = 0;
  for (const old of BEFORE.resources) {
    const now = byUrn.get(old.urn) ?? byAlias.get(old.urn);
    if (now) {
      if (engineUrn(now) !== old.urn) moved++;
      expect(now.type, old.urn).toBe(old.type);
      if (old.accountId) expect(now.inputs.accountId, old.urn).toBe(old.accountId);
      if (old.roleId) expect(now.inputs.roleId, old.urn).toBe(old.roleId);
    } else if (!Object.keys(REMOVED).some((suffix) => old.urn.endsWith(`::${suffix}`))) {
      unaccounted.push(old.urn);
    }
  }
  expect(unaccounted).toEqual([]);
  // The accounts, their grants and the guard's role moved to StackIdentities.
  expect(moved).toBeGreaterThanOrEqual(10);
});
