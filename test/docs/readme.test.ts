import * as fs from "node:fs";
import * as path from "node:path";
import { expect, test } from "vitest";
import { KEYS } from "../../config/keys";
import { readProjectFile } from "../../scripts/stackFiles";

const ROOT = path.resolve(__dirname, "../..");
const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
const tableKeys = [...readme.matchAll(/^\| `([a-z]+:[A-Za-z]+)` \|/gm)].map((m) => m[1]);

test("the README's config table names every key of the program, and no other", () => {
  const declared = Object.keys(KEYS).map((k) => `warmstart:${k}`);
  expect(tableKeys.filter((k) => k.startsWith("warmstart:")).sort()).toEqual(declared.sort());
  expect(tableKeys).toEqual(expect.arrayContaining(["gcp:project", "gcp:region"]));
});

test("the README marks secret keys as secret and says how to set them", () => {
  for (const [name, spec] of Object.entries(KEYS)) {
    if (!("secret" in spec && spec.secret)) continue;
    const row = readme.split("\n").find((l) => l.startsWith(`| \`warmstart:${name}\` |`))!;
    expect(row.split("|")[2].trim(), name).toBe("string (secret)");
    expect(readme, name).toContain(`pulumi config set --secret warmstart:${name}`);
  }
});

test("the README's defaults match Pulumi.yaml", () => {
  for (const [key, spec] of Object.entries(readProjectFile(ROOT).config)) {
    const row = readme.split("\n").find((l) => l.startsWith(`| \`${key}\` |`))!;
    const cell = row.split("|")[3].trim();
    if (spec.default === undefined) expect(cell, key).toMatch(/^— \(required/);
    else expect(cell, key).toBe(`\`${JSON.stringify(spec.default)}\``);
  }
});

test("the commands the README gives a newcomer exist", () => {
  const scripts = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).scripts as Record<string, string>;
  for (const cmd of readme.matchAll(/npm run ([a-z0-9:-]+)/g)) expect(scripts, cmd[0]).toHaveProperty(cmd[1]);
  expect(readme).toContain("npm test");
  expect(fs.readFileSync(path.join(ROOT, ".ci/run"), "utf8")).toMatch(/^npm test( |$)/m);
});
