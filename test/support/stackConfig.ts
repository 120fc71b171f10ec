/**
 * The stack's configuration parsed straight from a table of values (BASE_CONFIG with overrides), without running the
 * program: for tests of a key's parser and the cross-checks, which need no resources and run in milliseconds.
 */
import * as path from "node:path";
import { vi } from "vitest";
import * as parseModule from "../../config/parse";
import type { StackConfig } from "../../config/types";
import { BASE_CONFIG } from "../harness";

export const PROJECT_ROOT = path.resolve(__dirname, "../..");

export interface ConfigOptions {
  /** Secret keys stored in plain text (set without --secret); every other key counts as encrypted. */
  readonly plainText?: readonly string[];
}

/** Overrides of BASE_CONFIG; undefined unsets a key (its default applies, or it is missing). */
export type ConfigOverrides = Readonly<Record<string, string | undefined>>;

function configParsers({ ConfigError, parseStackConfig }: typeof parseModule) {
  /** Parses BASE_CONFIG with `over` applied; throws the ConfigError a user would see. */
  const parseConfig = (over: ConfigOverrides = {}, opts: ConfigOptions = {}): StackConfig => {
    const config: Record<string, string> = { ...BASE_CONFIG };
    for (const [key, value] of Object.entries(over)) {
      if (value === undefined) delete config[key];
      else config[key] = value;
    }
    return parseStackConfig((k) => config[k], { rootDir: PROJECT_ROOT, isEncrypted: (k) => !opts.plainText?.includes(k), presentKeys: Object.keys(config) });
  };
  /** The ConfigError `over` gives, or undefined when the config is valid. */
  const configError = (over: ConfigOverrides = {}, opts: ConfigOptions = {}): parseModule.ConfigError | undefined => {
    try {
      parseConfig(over, opts);
      return undefined;
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      return e;
    }
  };
  return {
    parseConfig,
    configError,
    /** Each problem as `key: reason`; [] when the config is valid. */
    configProblems: (over: ConfigOverrides = {}, opts: ConfigOptions = {}): string[] => configError(over, opts)?.problems.map((p) => `${p.key}: ${p.reason}`) ?? [],
    /** The error's lines about each key, as the user reads them (`key: reason, got "value"`), trimmed; [] when valid. */
    configErrorLines: (over: ConfigOverrides = {}, opts: ConfigOptions = {}): string[] => {
      const error = configError(over, opts);
      return error ? error.message.split("\n").slice(1, -1).map((l) => l.trim()) : [];
    },
  };
}

export const { parseConfig, configError, configProblems, configErrorLines } = configParsers(parseModule);

/**
 * The same helpers over the config modules loaded afresh, for a test of what the key table builds when it loads (a
 * key's check, a pattern such as the host name's): mutation testing counts only code that runs inside a test as that
 * test's to check (docs/testing.md), and the table is built once, at import.
 */
export async function freshConfigParsers(): Promise<ReturnType<typeof configParsers>> {
  vi.resetModules();
  return configParsers((await import(path.join(PROJECT_ROOT, "config/parse.ts"))) as typeof parseModule);
}
