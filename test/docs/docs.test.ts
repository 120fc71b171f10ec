/**
 * The docs hold together: the README fits on a screen or two, every relative link in the README, CONTRIBUTING.md and
 * docs/ reaches a file (and a `#anchor` into a Markdown file, one of its headings), and every `npm run X` they name is
 * a script of package.json.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, test } from "vitest";

const ROOT = path.resolve(__dirname, "../..");
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), "utf8");
const DOCS = [
  "README.md",
  "CONTRIBUTING.md",
  ...fs
    .readdirSync(path.join(ROOT, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => `docs/${f}`),
];

// Files and scripts named before they land (none now); each entry goes once it exists.
const LANDING_FILES = new Set<string>();
const LANDING_SCRIPTS = new Set<string>();

const README_MAX_LINES = 150;

/** Markdown outside fenced code blocks and inline code spans: what a reader sees as prose, links and headings. */
function prose(markdown: string): string {
  return markdown.replace(/^\s*```[\s\S]*?^\s*```[^\n]*$/gm, "").replace(/`[^`\n]*`/g, "``");
}

/** GitHub's anchor for each heading of a Markdown file: lower case, punctuation dropped, spaces to hyphens, -N on repeats. */
export function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  const text = markdown.replace(/^\s*```[\s\S]*?^\s*```[^\n]*$/gm, "");
  for (const m of text.matchAll(/^#{1,6} +(.+?) *#* *$/gm)) {
    const base = m[1]
      .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "")
      .replace(/ /g, "-");
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** The relative link targets of a Markdown file (inline `[text](target)` and `[ref]: target`), not web or mail ones. */
export function relativeLinks(markdown: string): string[] {
  const text = prose(markdown);
  const targets = [...text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g), ...text.matchAll(/^\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm)].map((m) => m[1]);
  return targets.filter((t) => !/^[a-z][a-z0-9+.-]*:/i.test(t));
}

/** What is wrong with each relative link of `file` (a path from the repository root), given a way to read files. */
export function brokenLinks(file: string, markdown: string, exists: (p: string) => boolean, readFile: (p: string) => string): string[] {
  const found: string[] = [];
  for (const link of relativeLinks(markdown)) {
    const [target, anchor] = link.split("#", 2) as [string, string | undefined];
    const resolved = target === "" ? file : path.posix.normalize(path.posix.join(path.posix.dirname(file), decodeURI(target)));
    if (LANDING_FILES.has(resolved)) continue;
    if (resolved.startsWith("..") || !exists(resolved)) {
      found.push(`${file}: ${link}: no file ${resolved}`);
      continue;
    }
    if (anchor !== undefined && resolved.endsWith(".md") && !anchors(readFile(resolved)).has(anchor)) {
      found.push(`${file}: ${link}: ${resolved} has no heading with the anchor #${anchor}`);
    }
  }
  return found;
}

/** The README's length in lines. */
export function readmeLines(readme: string): number {
  return readme.replace(/\n$/, "").split("\n").length;
}

const existsInRepo = (p: string) => fs.existsSync(path.join(ROOT, p));

describe("the docs", () => {
  test(`the README fits in ${README_MAX_LINES} lines`, () => {
    expect(readmeLines(read("README.md"))).toBeLessThanOrEqual(README_MAX_LINES);
  });

  test("every relative link reaches a file, and every #anchor into a Markdown file a heading of it", () => {
    expect(DOCS.flatMap((f) => brokenLinks(f, read(f), existsInRepo, read))).toEqual([]);
  });

  test("every npm run they name is a script of package.json", () => {
    const scripts = JSON.parse(read("package.json")).scripts as Record<string, string>;
    const missing = DOCS.flatMap((f) =>
      [...read(f).matchAll(/npm run (?:--?[a-z-]+ +)*([a-z0-9:-]+)/g)]
        .map((m) => m[1])
        .filter((name) => !(name in scripts) && !LANDING_SCRIPTS.has(name))
        .map((name) => `${f}: npm run ${name}`),
    );
    expect(missing).toEqual([]);
  });
});

describe("the checks themselves", () => {
  const files: Record<string, string> = {
    "docs/a.md": "# A page\n\n## Is it warm right now?\n\n```bash\n# not a heading\n```\n\n## What a `pulumi up` does\n\n## Repeat\n\n## Repeat\n",
  };
  files["docs/b.md"] = [
    "## B",
    "[ok](a.md#is-it-warm-right-now) [ok](a.md#what-a-pulumi-up-does) [ok](a.md#repeat-1) [ok](../README.md) [ok](#b)",
    "[web](https://example.com/x.md) [mail](mailto:a@b.c) `[code](nowhere.md)`",
    "[gone](nowhere.md) [bad anchor](a.md#not-a-heading) [up](../../x.md) [self](#not-here)",
  ].join("\n");
  const exists = (p: string) => p in files || p === "README.md";
  const readFile = (p: string) => files[p] ?? "";

  test("a missing file, a missing anchor and a path outside the repository are reported; good links are not", () => {
    expect(brokenLinks("docs/b.md", files["docs/b.md"], exists, readFile)).toEqual([
      "docs/b.md: nowhere.md: no file docs/nowhere.md",
      "docs/b.md: a.md#not-a-heading: docs/a.md has no heading with the anchor #not-a-heading",
      "docs/b.md: ../../x.md: no file ../x.md",
      "docs/b.md: #not-here: docs/b.md has no heading with the anchor #not-here",
    ]);
  });
});
