import * as fs from "node:fs";
import * as path from "node:path";
import { expect, test } from "vitest";

const ROOT = path.resolve(__dirname, "../..");
const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");

test("the commands the README gives a newcomer exist", () => {
  const scripts = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).scripts as Record<string, string>;
  for (const cmd of readme.matchAll(/npm run ([a-z0-9:-]+)/g)) expect(scripts, cmd[0]).toHaveProperty(cmd[1]);
  expect(readme).toContain("npm test");
  expect(fs.readFileSync(path.join(ROOT, ".ci/run"), "utf8")).toMatch(/^npm test( |$)/m);
});
