/**
 * The command line of every warmstart program (the fetcher in the image, the npm scripts): a command declares its
 * purpose, flags, environment, example and exit codes once; --help is made from that declaration. A mistake on the
 * command line (an unknown flag, a missing value, a bad number) prints what was wrong and the usage, exit 2; a
 * mistake in what a flag names (a file that is not there, a stack that does not exist) prints one line; neither
 * shows a stack trace (issue #18). Here rather than in scripts/ because the container bundle takes it in: it
 * depends on Node.js alone.
 */
import * as fs from "node:fs";
import { parseArgs } from "node:util";
import { CommandError } from "./commandError";

export interface Flag {
  readonly type: "string" | "boolean";
  /** The value's placeholder in the help: FILE, N, URL. */
  readonly value?: string;
  readonly short?: string;
  readonly multiple?: boolean;
  /** What it does: one sentence, no default (the help adds it). */
  readonly help: string;
  /** The value when the flag is absent; the help shows it. */
  readonly default?: string;
  /** The default in words where it is no single value ("the stack's zone, else UTC"): the code applies it. */
  readonly defaultText?: string;
  /** Absent is a usage error. */
  readonly required?: boolean;
}

export interface Command<F extends Readonly<Record<string, Flag>> = Readonly<Record<string, Flag>>> {
  /** What messages start with: the npm script's name, or the program's. */
  readonly name: string;
  /** One line: what it does, for whom. */
  readonly purpose: string;
  /** What follows "Usage: ". */
  readonly usage: string;
  /** Paragraphs between the usage and the flags, wrapped as they should print. */
  readonly about?: string;
  readonly flags: F;
  /** Environment variables it reads, each with what it is and its default. */
  readonly env?: Readonly<Record<string, string>>;
  readonly example: string;
  readonly exitCodes: Readonly<Record<number, string>>;
}

type FlagValue<T extends Flag> = T["type"] extends "boolean"
  ? boolean
  : T["multiple"] extends true
    ? string[]
    : T extends { readonly default: string } | { readonly required: true }
      ? string
      : string | undefined;

export type Values<F extends Readonly<Record<string, Flag>>> = { readonly [K in keyof F]: FlagValue<F[K]> };

/** Declares a command; `const` keeps each flag's literal type, so that its value is typed. */
export function command<const F extends Readonly<Record<string, Flag>>>(c: Command<F>): Command<F> {
  return c;
}

/** A mistake on the command line: printed with the usage, exit 2. */
export class UsageError extends CommandError {
  constructor(message: string) {
    super(message, 2);
  }
}

const HELP_FLAG: Flag = { type: "boolean", short: "h", help: "print this help and exit" };
const WIDTH = 100;

function wrap(text: string, width: number, indent: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width - indent) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

/** Rows of `  label  text`, the text wrapped under itself. */
function table(rows: [string, string][]): string {
  const col = Math.min(34, Math.max(...rows.map(([label]) => label.length)) + 2);
  return rows
    .flatMap(([label, text]) => {
      const pad = 2 + col;
      const lines = wrap(text, WIDTH, pad);
      const first = label.length + 2 <= col ? [`  ${label.padEnd(col)}${lines.shift() ?? ""}`] : [`  ${label}`];
      return [...first, ...lines.map((l) => " ".repeat(pad) + l)];
    })
    .join("\n");
}

function flagLabel(name: string, f: Flag): string {
  return `${f.short ? `-${f.short}, ` : ""}--${name}${f.type === "string" ? ` ${f.value ?? "VALUE"}` : ""}`;
}

function flagText(f: Flag): string {
  const def = f.required ? "required" : f.default !== undefined ? `default ${f.default === "" ? '""' : f.default}` : f.defaultText !== undefined ? `default ${f.defaultText}` : undefined;
  return def ? `${f.help} (${def})` : f.help;
}

/** Everything after the purpose line: the usage, the flags, the environment, the example and the exit codes. */
function usageText(cmd: Command): string {
  const flags = { ...cmd.flags, help: HELP_FLAG };
  const parts = [`Usage: ${cmd.usage}`];
  if (cmd.about) parts.push(cmd.about.trim());
  parts.push(`Options:\n${table(Object.entries(flags).map(([name, f]) => [flagLabel(name, f), flagText(f)]))}`);
  if (cmd.env && Object.keys(cmd.env).length > 0) parts.push(`Environment:\n${table(Object.entries(cmd.env))}`);
  parts.push(`Example:\n  ${cmd.example}`);
  parts.push(`Exit codes:\n${table(Object.entries(cmd.exitCodes))}`);
  return parts.join("\n\n");
}

/** What --help prints: the purpose on the first line, then the usage. */
export function helpText(cmd: Command): string {
  return `${cmd.purpose}\n\n${usageText(cmd)}`;
}

/** node:util's parse errors, said the way the rest of the help speaks. */
function parseProblem(cmd: Command, err: NodeJS.ErrnoException): string {
  // Node quotes the flag as '--name', '--name <value>' or '-h, --help'.
  const flag = /'(?:-\w, )?(-{1,2}[\w-]+)/.exec(err.message)?.[1] ?? /'([^']*)'/.exec(err.message)?.[1];
  const spec = Object.entries({ ...cmd.flags, help: HELP_FLAG }).find(([name, f]) => `--${name}` === flag || (f.short !== undefined && `-${f.short}` === flag));
  switch (err.code) {
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION":
      return `unknown flag ${flag}`;
    case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE":
      if (spec && spec[1].type === "boolean") return `${flag} takes no value`;
      return spec ? `${flag} needs a value: ${flagLabel(spec[0], spec[1])}${/ambiguous/.test(err.message) ? ` (a value starting with "-" goes as ${flag}=VALUE)` : ""}` : err.message;
    case "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL":
      return `unexpected argument ${/'([^']*)'/.exec(err.message)?.[1] ?? ""}; every value follows its flag`;
    default:
      return err.message;
  }
}

/** The flags' values, or "help" when --help or -h was given. Throws a {@link UsageError}. */
export function parseFlags<F extends Readonly<Record<string, Flag>>>(cmd: Command<F>, argv: readonly string[]): Values<F> | "help" {
  const options = Object.fromEntries(
    Object.entries({ ...cmd.flags, help: HELP_FLAG }).map(([name, f]) => [
      name,
      { type: f.type, ...(f.short ? { short: f.short } : {}), ...(f.multiple ? { multiple: true } : {}), ...(f.default !== undefined ? { default: f.multiple ? [f.default] : f.default } : {}) },
    ]),
  );
  let values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  try {
    values = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values;
  } catch (err) {
    if (typeof (err as NodeJS.ErrnoException).code === "string" && (err as NodeJS.ErrnoException).code!.startsWith("ERR_PARSE_ARGS")) throw new UsageError(parseProblem(cmd, err as NodeJS.ErrnoException));
    throw err;
  }
  if (values.help) return "help";
  const out: Record<string, unknown> = {};
  for (const [name, f] of Object.entries(cmd.flags)) {
    const v = values[name];
    if (f.type === "boolean") out[name] = v === true;
    else if (f.multiple) out[name] = (v as string[] | undefined) ?? [];
    else out[name] = v;
    for (const s of f.multiple ? ((v as string[] | undefined) ?? []) : typeof v === "string" ? [v] : []) {
      if (s === "") throw new UsageError(`--${name} needs a value, got an empty one: ${flagLabel(name, f)}`);
    }
    if (f.required && v === undefined) throw new UsageError(`--${name} is required`);
  }
  return out as Values<F>;
}

/** `raw` as a number in [min, max], else a usage error naming the flag. */
export function numberFlag(name: string, raw: string, min: number, max: number, o: { integer?: boolean } = {}): number {
  const n = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(n) || n < min || n > max || (o.integer && !Number.isInteger(n))) {
    throw new UsageError(`--${name} must be ${o.integer ? "an integer" : "a number"} ${min}..${max}, got "${raw}"`);
  }
  return n;
}

const FILE_PROBLEMS: Readonly<Record<string, string>> = { ENOENT: "no such file", EACCES: "permission denied", EISDIR: "a folder, not a file", ENOTDIR: "a path through a file" };

/**
 * The text of a file a flag names, or a one-line error naming the flag and the file, never the content (which may
 * be a secret); exit `exitCode` (2 by default: the flag's value is wrong).
 */
export function readFlagFile(flag: string, file: string, exitCode: 1 | 2 = 2): string {
  try {
    return fs.readFileSync(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "";
    throw new CommandError(`${flag} ${file}: cannot read it (${FILE_PROBLEMS[code] ?? (code || (err as Error).message)})`, exitCode);
  }
}

/** Writes a file a flag names; a failure names the flag and the file (exit 1). */
export function writeFlagFile(flag: string, file: string, text: string | Uint8Array): void {
  try {
    fs.writeFileSync(file, text);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "";
    throw new CommandError(`${flag} ${file}: cannot write it (${FILE_PROBLEMS[code] ?? (code || (err as Error).message)}); is its folder there?`, 1);
  }
}

/** A Node.js error about a file or a system call (ENOENT, EACCES): the user's environment, not a bug. */
function isSystemError(err: unknown): err is NodeJS.ErrnoException {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).code === "string" && typeof (err as NodeJS.ErrnoException).syscall === "string";
}

export interface RunOptions {
  /**
   * Errors whose message is enough (exit 1): a bad log, a bad config; "all" for a program another one runs (the
   * image build, pulumi up), whose log wants the reason and no stack. Any other error shows its stack.
   */
  readonly userErrors?: readonly (abstract new (...args: never[]) => Error)[] | "all";
}

/**
 * Parses `argv` for `cmd` and runs `work` with the values; returns the exit code. --help prints the help (exit 0);
 * a {@link UsageError} prints its message and the usage (exit 2); a {@link CommandError}, a user error or a
 * system error (a file) prints one line (its exit code, else 1); anything else is a bug and shows its stack (exit 1).
 */
export async function runCommand<F extends Readonly<Record<string, Flag>>>(cmd: Command<F>, argv: readonly string[], work: (values: Values<F>) => number | Promise<number>, o: RunOptions = {}): Promise<number> {
  const stderr = (text: string) => process.stderr.write(text);
  const say = (message: string) => {
    const line = message.startsWith(`${cmd.name}: `) ? message : `${cmd.name}: ${message}`;
    return line.split("\n").join("\n  ");
  };
  try {
    const values = parseFlags(cmd, argv);
    if (values === "help") {
      process.stdout.write(`${helpText(cmd)}\n`);
      return 0;
    }
    return await work(values);
  } catch (err) {
    if (err instanceof UsageError) {
      stderr(`${say(err.message)}\n\n${usageText(cmd)}\n`);
      return 2;
    }
    if (err instanceof CommandError) {
      stderr(`${say(err.message)}\n`);
      return err.exitCode;
    }
    if (isSystemError(err) || o.userErrors === "all" || (o.userErrors ?? []).some((c) => err instanceof c)) {
      stderr(`${say((err as Error).message)}\n`);
      return 1;
    }
    stderr(`${cmd.name}: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
    return 1;
  }
}
