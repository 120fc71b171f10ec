/**
 * The cloud contracts (test/contracts/): every rule a real API enforces and Pulumi's mocks do not, checked against
 * the synthesized program of every example stack. docs/cloud-contracts.md lists the same rules for people.
 */
import { beforeAll, describe, expect, test } from "vitest";
import { synthesizeAll, type SynthesizedStack } from "../contracts/exampleStacks";
import * as fs from "node:fs";
import * as path from "node:path";
import { API_RULES, apisOf, apisToEnable } from "../contracts/apis";
import { RUNTIME_AND_BUILD_RULES } from "../contracts/build";
import { IAM_RULES } from "../contracts/iam";
import { MONITORING_RULES } from "../contracts/monitoring";
import { ORDERING_RULES } from "../contracts/ordering";
import type { ContractRule } from "../contracts/rule";

export const ALL_RULES: readonly ContractRule[] = [...RUNTIME_AND_BUILD_RULES, ...ORDERING_RULES, ...MONITORING_RULES, ...IAM_RULES, ...API_RULES];

let stacks: SynthesizedStack[] = [];
beforeAll(async () => {
  stacks = await synthesizeAll();
});

describe.each(ALL_RULES.map((r) => [r.id, r] as const))("%s", (_id, rule) => {
  test(`${rule.rule} (${rule.source}, checked ${rule.checked})`, () => {
    for (const stack of stacks) expect(rule.violations(stack), `stack ${stack.stack}`).toEqual([]);
    expect(stacks.reduce((n, s) => n + rule.exercised(s), 0), "the rule looked at nothing in any example stack").toBeGreaterThan(0);
  });
});

test("docs/operations.md asks to enable no API that no example stack calls", () => {
  const used = new Set(stacks.flatMap((s) => [...apisOf(s)]));
  const listed = apisToEnable(fs.readFileSync(path.resolve(__dirname, "../../docs/operations.md"), "utf8"));
  expect([...listed].filter((a) => !used.has(a)).sort()).toEqual([]);
  expect(listed.size).toBeGreaterThan(0);
});

test("docs/cloud-contracts.md gives every rule, its source and the day it was checked", () => {
  const doc = fs.readFileSync(path.resolve(__dirname, "../../docs/cloud-contracts.md"), "utf8");
  for (const rule of ALL_RULES) {
    const entry = new RegExp(`\\*\\*${rule.id.replace(/[/-]/g, "\\$&")}\\*\\*[\\s\\S]*?Checked ${rule.checked}`).exec(doc);
    expect(entry, rule.id).not.toBeNull();
  }
});
