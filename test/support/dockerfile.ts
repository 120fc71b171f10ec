/**
 * Just enough of a Dockerfile reader for the static checks of the reference images (test/images/images.test.ts):
 * instructions with their continuation lines joined and comments dropped, ARG defaults, and ENV pairs.
 */
export interface Instruction {
  readonly keyword: string;
  readonly args: string;
}

export function instructions(text: string): Instruction[] {
  const out: Instruction[] = [];
  let current = "";
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (current === "" && (line === "" || line.startsWith("#"))) continue;
    if (line.startsWith("#")) continue; // a comment between continuation lines
    current += (current ? " " : "") + line.replace(/\\$/, "").trim();
    if (!line.endsWith("\\")) {
      const [keyword, ...rest] = current.split(/\s+/);
      out.push({ keyword: keyword.toUpperCase(), args: rest.join(" ") });
      current = "";
    }
  }
  return out;
}

/** ARG NAME=default pairs. */
export function argDefaults(ins: readonly Instruction[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const i of ins.filter((x) => x.keyword === "ARG")) {
    const m = /^(\w+)=(\S+)$/.exec(i.args);
    if (m) out[m[1]] = m[2];
  }
  return out;
}

/** ENV KEY=VALUE pairs ("..." values unquoted), later ones winning. */
export function envPairs(ins: readonly Instruction[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const i of ins.filter((x) => x.keyword === "ENV")) {
    for (const m of i.args.matchAll(/(\w+)=("([^"]*)"|\S+)/g)) out[m[1]] = m[3] ?? m[2];
  }
  return out;
}

/** COPY instructions from the build context (not --from a stage): sources and destination. */
export function contextCopies(ins: readonly Instruction[]): { sources: string[]; dest: string }[] {
  return ins
    .filter((i) => i.keyword === "COPY" && !/--from=/.test(i.args))
    .map((i) => {
      const words = i.args.split(/\s+/).filter((w) => !w.startsWith("--"));
      return { sources: words.slice(0, -1), dest: words[words.length - 1] };
    });
}

/** KEY=VALUE lines (`docker run --env-file`'s format: no quotes, # comments). */
export function envFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    if (line.trim() === "" || line.startsWith("#")) continue;
    const eq = line.indexOf("=");
    if (eq < 1) throw new Error(`not KEY=VALUE: ${line}`);
    out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}
