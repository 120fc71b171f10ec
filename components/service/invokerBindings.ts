/**
 * Pulumi resource names for the service's run.invoker bindings, one per member. Pure.
 *
 * A name is a readable slug of the member and a hash of the exact member: the slug alone (what stacks were deployed
 * with) maps user:john.doe@acme.com and user:john-doe@acme.com to one name, one URN, which the engine refuses.
 */
import { createHash } from "node:crypto";

export interface InvokerBindingName {
  readonly member: string;
  /** The resource name, under the component's name: `<component>-invoker-<slug>-<hash>`. */
  readonly name: string;
  /** The name stacks deployed before this scheme gave the member's binding: `<component>-invoker-<slug>`. */
  readonly oldName: string;
  /**
   * `oldName` when this binding takes it as an alias (https://www.pulumi.com/docs/iac/concepts/options/aliases/), so an
   * existing stack updates the binding in place. Without it the engine would create the renamed binding and then
   * delete the old one, and an IAM member binding is the grant itself: the member would lose access. Undefined when
   * an earlier member took that name.
   */
  readonly alias: string | undefined;
}

const slug = (member: string) => member.replace(/[^a-zA-Z0-9]+/g, "-").toLowerCase();

/**
 * Only the first member (in config order) with a given old name takes it as an alias: the engine refuses two
 * resources claiming one alias, and a stack can hold a binding under that name for one member only (the engine refused
 * the second registration of the same URN). See {@link sharedOldNames} for the case where that one was not the first.
 */
export function invokerBindingNames(component: string, members: readonly string[]): InvokerBindingName[] {
  const taken = new Set<string>();
  return members.map((member) => {
    const oldName = `${component}-invoker-${slug(member)}`;
    const alias = taken.has(oldName) ? undefined : oldName;
    taken.add(oldName);
    const hash = createHash("sha256").update(member).digest("hex").slice(0, 8);
    return { member, name: `${oldName}-${hash}`, oldName, alias };
  });
}

/**
 * Old names that more than one member maps to, with those members in config order. A stack deployed before holds
 * that name for whichever of them it was deployed with; if that is not the first, the alias makes the engine replace
 * the old binding with the first member's and then delete it, which removes the other member's grant. The program
 * warns so the user can check the preview (a replaced binding whose member changes) and put that member first.
 */
export function sharedOldNames(bindings: readonly InvokerBindingName[]): { oldName: string; members: string[] }[] {
  const byOld = new Map<string, string[]>();
  for (const b of bindings) byOld.set(b.oldName, [...(byOld.get(b.oldName) ?? []), b.member]);
  return [...byOld].filter(([, members]) => members.length > 1).map(([oldName, members]) => ({ oldName, members }));
}
