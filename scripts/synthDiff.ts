/**
 * `npm run synth -- --diff OLD.json`: what changed against an earlier plan, as `pulumi preview --diff` shows it: one
 * line per resource created (+), updated (~) or deleted (-), with the inputs that changed. OLD.json is an earlier
 * `synth --json` or a `pulumi stack export` of the deployed stack. Offline, from the programs' inputs alone: whether
 * the provider replaces a resource or only updates it is the provider's call and is not shown. Pure.
 */

/** One resource of a plan: what the program asked for. */
export interface PlannedResource {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, unknown>;
}

export interface PlanFile {
  readonly resources: PlannedResource[];
  /** A `pulumi stack export` holds the provider's defaults too: only the inputs the program sets are compared. */
  readonly fromStackExport: boolean;
}

export class PlanFileError extends Error {}

/** Pulumi's marker of a secret value in a stack export (`4dabf18193072939515e22adb298388d`: "1b47061264138c4ac30d75fd1eb44270"). */
const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";

/** Reads `synth --json` output (`{ resources }`) or a `pulumi stack export` (`{ deployment: { resources } }`). */
export function parsePlanFile(text: string, file: string): PlanFile {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new PlanFileError(`${file}: not JSON (${(err as Error).message}); give the file \`npm run synth -- --json FILE\` or \`pulumi stack export --file FILE\` wrote`);
  }
  const d = doc as { resources?: unknown; deployment?: { resources?: unknown } };
  const fromStackExport = d?.deployment !== undefined;
  const list = fromStackExport ? d.deployment?.resources : d?.resources;
  if (!Array.isArray(list)) {
    throw new PlanFileError(`${file}: has no "resources" list (synth --json) or "deployment.resources" (pulumi stack export); give the file one of them wrote`);
  }
  const resources = list
    .filter((r): r is Record<string, unknown> => typeof r === "object" && r !== null && typeof (r as { urn?: unknown }).urn === "string")
    // The stack itself and the providers are the engine's, not the program's resources.
    .filter((r) => r.type !== "pulumi:pulumi:Stack" && !String(r.type).startsWith("pulumi:providers:"))
    .map((r) => ({
      urn: r.urn as string,
      type: String(r.type),
      name: typeof r.name === "string" ? r.name : String(r.urn).split("::").pop()!,
      inputs: maskSecrets((r.inputs ?? {}) as Record<string, unknown>) as Record<string, unknown>,
    }));
  return { resources, fromStackExport };
}

/** A stack export's secrets (ciphertext or, with --show-secrets, plaintext) read "[secret]", as synth shows them. */
function maskSecrets(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(maskSecrets);
  if (v && typeof v === "object") {
    const o = v as Record<string, unknown>;
    if (SECRET_SIG_KEY in o) return "[secret]";
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, maskSecrets(x)]));
  }
  return v;
}

export interface InputChange {
  /** e.g. `template.scaling.maxInstanceCount` or `httpTarget.body`. */
  readonly path: string;
  readonly before: unknown;
  readonly after: unknown;
}

export interface ResourceChange {
  readonly op: "+" | "~" | "-";
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  readonly changes: InputChange[];
}

export interface PlanDiff {
  readonly changes: ResourceChange[];
  readonly unchanged: number;
}

/** Resources matched by URN, as the engine matches them (an alias is not followed: it shows as - and +). */
export function diffPlans(before: PlanFile, current: readonly PlannedResource[]): PlanDiff {
  const after = current.filter((r) => !r.type.startsWith("pulumi:providers:"));
  const old = new Map(before.resources.map((r) => [r.urn, r]));
  const now = new Set(after.map((r) => r.urn));
  const changes: ResourceChange[] = [];
  let unchanged = 0;
  for (const r of after) {
    const was = old.get(r.urn);
    if (!was) {
      changes.push({ op: "+", urn: r.urn, type: r.type, name: r.name, changes: [] });
      continue;
    }
    const diffs = diffValues(was.inputs, r.inputs, "", before.fromStackExport);
    if (diffs.length > 0) changes.push({ op: "~", urn: r.urn, type: r.type, name: r.name, changes: diffs });
    else unchanged++;
  }
  for (const r of before.resources) if (!now.has(r.urn)) changes.push({ op: "-", urn: r.urn, type: r.type, name: r.name, changes: [] });
  return { changes, unchanged };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** A string that holds a JSON object or list (a dashboard, the guard's schedule), parsed; else undefined. */
function jsonInside(v: unknown): unknown {
  if (typeof v !== "string" || !/^\s*[[{]/.test(v)) return undefined;
  try {
    return JSON.parse(v);
  } catch {
    return undefined;
  }
}

/** Leaf differences, into JSON held in strings and lists of the same length; other lists are compared whole. */
function diffValues(before: unknown, after: unknown, path: string, onlyAfterKeys: boolean): InputChange[] {
  const [jb, ja] = [jsonInside(before), jsonInside(after)];
  if (jb !== undefined && ja !== undefined) return diffValues(jb, ja, `${path}(json)`, false);
  if (Array.isArray(before) && Array.isArray(after) && before.length === after.length && before.some((b) => typeof b === "object")) {
    return before.flatMap((b, i) => diffValues(b, after[i], `${path}[${i}]`, onlyAfterKeys));
  }
  if (isObject(before) && isObject(after)) {
    const keys = new Set([...Object.keys(after), ...(onlyAfterKeys ? [] : Object.keys(before))]);
    return [...keys]
      .filter((k) => !k.startsWith("__"))
      .sort()
      .flatMap((k) => diffValues(before[k], after[k], path ? `${path}.${k}` : k, onlyAfterKeys));
  }
  return JSON.stringify(before) === JSON.stringify(after) ? [] : [{ path, before, after }];
}

const show = (v: unknown, max = 80) => {
  const s = v === undefined ? "(unset)" : JSON.stringify(v);
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
};

/** Two long strings shown around where they differ: `…same text before [old] same text after…`. */
export function showChange(before: unknown, after: unknown): string {
  if (typeof before !== "string" || typeof after !== "string" || Math.max(before.length, after.length) <= 60) return `${show(before)} => ${show(after)}`;
  let p = 0;
  while (p < before.length && p < after.length && before[p] === after[p]) p++;
  let q = 0;
  while (q < before.length - p && q < after.length - p && before[before.length - 1 - q] === after[after.length - 1 - q]) q++;
  const context = 16;
  const cut = (x: string) => `${p > context ? "…" : ""}${x.slice(Math.max(0, p - context), x.length - q + context)}${q > context ? "…" : ""}`;
  return `${show(cut(before))} => ${show(cut(after))}`;
}

export function renderDiff(diff: PlanDiff, file: string): string[] {
  const count = (op: string) => diff.changes.filter((c) => c.op === op).length;
  const lines = [`Changes against ${file} (the inputs, as pulumi preview --diff lists them):`];
  if (diff.changes.length === 0) lines.push("  none");
  for (const c of diff.changes) {
    lines.push(`  ${c.op} ${c.type}  ${c.name}`);
    for (const ch of c.changes.slice(0, 12)) lines.push(`      ${ch.path}: ${showChange(ch.before, ch.after)}`);
    if (c.changes.length > 12) lines.push(`      and ${c.changes.length - 12} more (--json has them all)`);
  }
  lines.push(`  ${count("+")} to create, ${count("~")} to update, ${count("-")} to delete, ${diff.unchanged} unchanged`, "");
  return lines;
}
