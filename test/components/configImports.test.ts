/**
 * Components own their args: none imports config/ (index.ts maps the parsed config to each component's args), so a
 * component can be read, tested and reused without the stack's config keys.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(__dirname, "../..");
const COMPONENTS = path.join(ROOT, "components");
const CONFIG = path.join(ROOT, "config");

const isInConfig = (resolved: string) => resolved === CONFIG || resolved.startsWith(`${CONFIG}${path.sep}`);

/** Every module specifier of a file: static imports and exports, and dynamic import(). */
function specifiers(source: string): string[] {
  return [...source.matchAll(/\bfrom\s+"([^"]+)"|\bimport\s*\(\s*"([^"]+)"\s*\)|^\s*import\s+"([^"]+)"/gm)].map((m) => m[1] ?? m[2] ?? m[3]);
}

describe("component imports", () => {
  it("no component imports the config module", () => {
    const files = fs.readdirSync(COMPONENTS, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".ts"));
    expect(files.length).toBeGreaterThan(20);
    const offending = files.flatMap((file) =>
      specifiers(fs.readFileSync(path.join(COMPONENTS, file), "utf8"))
        .filter((s) => s.startsWith(".") && isInConfig(path.resolve(path.dirname(path.join(COMPONENTS, file)), s)))
        .map((s) => `components/${file}: ${s}`),
    );
    expect(offending).toEqual([]);
  });
});
