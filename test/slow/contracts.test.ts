/**
 * The cloud contracts (test/contracts/): every rule a real API enforces and Pulumi's mocks do not, checked against
 * the synthesized program of every example stack. docs/cloud-contracts.md lists the same rules for people.
 */
import { beforeAll, describe, expect, test } from "vitest";
import { synthesizeAll, type SynthesizedStack } from "../contracts/exampleStacks";
import { IAM_RULES } from "../contracts/iam";
import { ORDERING_RULES } from "../contracts/ordering";
import type { ContractRule } from "../contracts/rule";

export const ALL_RULES: readonly ContractRule[] = [...ORDERING_RULES, ...IAM_RULES];

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
