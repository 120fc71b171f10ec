/**
 * Every child of a warmstart component is named from its parent's name, `<parent>-...` (sst's component.ts checks the
 * same): names cannot clash between components, and a child's URN says whose it is. Checked on the prod stack with
 * the models sync on, which has every component the stack makes.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { synthesize } from "../contracts/exampleStacks";

const COMPONENTS = path.resolve(__dirname, "../../components");

/** The type token of every component in components/, from its super() call: a new component is checked too. */
function componentTypes(): string[] {
  const types: string[] = [];
  for (const file of fs.readdirSync(COMPONENTS, { recursive: true, encoding: "utf8" })) {
    if (!file.endsWith(".ts")) continue;
    for (const m of fs.readFileSync(path.join(COMPONENTS, file), "utf8").matchAll(/super\("(warmstart:[^"]+)"/g)) types.push(m[1]);
  }
  return types.sort();
}

describe("child resource names", () => {
  it("every resource a component makes is named after the component", async () => {
    const run = await synthesize("prod", { overrides: { "warmstart:syncModelsOnDeploy": "true" } });
    const byUrn = new Map(run.resources.map((r) => [r.urn, r]));
    const isComponent = (type: string) => type.startsWith("warmstart:");

    // A rule that looks at nothing proves nothing: every component is in the run.
    expect([...new Set(run.resources.filter((r) => isComponent(r.type)).map((r) => r.type))].sort()).toEqual(componentTypes());

    const children = run.resources.filter((r) => r.parent !== undefined && isComponent(byUrn.get(r.parent)?.type ?? ""));
    expect(children.length).toBeGreaterThan(50);
    const misnamed = children.filter((r) => !r.name.startsWith(`${byUrn.get(r.parent!)!.name}-`)).map((r) => `${r.type} ${r.name} under ${byUrn.get(r.parent!)!.name}`);
    expect(misnamed).toEqual([]);
  });
});
