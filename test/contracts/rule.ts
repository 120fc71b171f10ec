import type { SynthesizedStack } from "./exampleStacks";

/** One rule a real cloud API enforces and the mocks do not, with where it is written down. */
export interface ContractRule {
  /** `<kind>/<name>`, also the rule's line in docs/cloud-contracts.md. */
  readonly id: string;
  /** The rule, in one sentence. */
  readonly rule: string;
  /** Where it is written: a URL, or a repository and path. */
  readonly source: string;
  /** The day the source was last read. */
  readonly checked: string;
  /** What breaks the rule in this stack, one line each; empty when the stack keeps it. */
  violations(stack: SynthesizedStack): string[];
  /** How many things in the stack the rule looked at; a rule that looks at nothing in any stack proves nothing. */
  exercised(stack: SynthesizedStack): number;
}

/** The resource's short form in a message: `type name`. */
export const label = (r: { type: string; name: string }) => `${r.type.split(":").pop()} ${r.name}`;
