import * as fs from "node:fs";
import * as path from "node:path";
import { expect, test, vi } from "vitest";
import { KEYS } from "../../config/keys";
import { configurationMarkdown, GENERATED_MARKER, withGeneratedConfig } from "../../config/reference";
import type * as GenConfig from "../../scripts/gen-config";

const ROOT = path.resolve(__dirname, "../..");

test("Pulumi.yaml's config block and docs/configuration.md are what the key table generates (else: npm run gen:config)", async () => {
  // The table is loaded afresh inside the test, not only at import: mutation testing (docs/testing.md) then counts
  // its descriptions, defaults and ranges as this test's to check, as they are what the two files show.
  vi.resetModules();
  const { generatedFiles } = (await import(path.join(ROOT, "scripts/gen-config.ts"))) as typeof GenConfig;
  for (const [file, text] of Object.entries(generatedFiles(ROOT))) {
    expect(fs.readFileSync(path.join(ROOT, file), "utf8"), `${file} is stale: run npm run gen:config`).toBe(text);
  }
});

test("docs/configuration.md has a row for every key, with its type, default and description", () => {
  const rows = configurationMarkdown().split("\n").filter((l) => l.startsWith("| `"));
  expect(rows.map((r) => /^\| `([^`]+)`/.exec(r)![1])).toEqual(["gcp:project", "gcp:region", ...Object.keys(KEYS).map((k) => `warmstart:${k}`)]);
  const row = (k: string) => rows.find((r) => r.startsWith(`| \`warmstart:${k}\` |`))!.split(" | ");
  expect(row("maxInstances").slice(1, 3)).toEqual(["integer 1..100", "`2`"]);
  expect(row("guardRatio").slice(1, 3)).toEqual(["string (number), 0.1..10", '`"1.0"`']);
  expect(row("modelsAccessKey").slice(1, 3)).toEqual(["string (secret)", "— (required where used)"]);
  expect(row("warmWindows")[1]).toBe("string or list");
});

test("the generated tail replaces everything after the marker and keeps what is above it", () => {
  const yaml = withGeneratedConfig(`name: x\nruntime: nodejs\n${GENERATED_MARKER}\nconfig:\n  old: {}\n`);
  expect(yaml.startsWith(`name: x\nruntime: nodejs\n${GENERATED_MARKER}\n`)).toBe(true);
  expect(yaml).not.toContain("old:");
  expect(yaml).toContain("  serviceName:\n    type: string\n");
  expect(() => withGeneratedConfig("name: x\nconfig:\n")).toThrow(/has no line/);
});
