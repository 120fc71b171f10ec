/**
 * Reads Pulumi.yaml and Pulumi.<stack>.yaml the way the Pulumi CLI would hand them to the program: project
 * defaults overlaid by the stack's values, every value a string (lists and objects as JSON).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { KEYS } from "../config/keys";
import { missingStackMessage } from "./missingStack";

export interface ProjectKey {
  readonly type?: string;
  readonly description?: string;
  readonly default?: unknown;
  readonly secret?: boolean;
}

export interface ProjectFile {
  readonly name: string;
  /** Declared keys, fully qualified ("warmstart:cpu"). */
  readonly config: Record<string, ProjectKey>;
}

export function readProjectFile(rootDir: string): ProjectFile {
  const doc = parse(fs.readFileSync(path.join(rootDir, "Pulumi.yaml"), "utf8")) as { name: string; config?: Record<string, ProjectKey> };
  const config: Record<string, ProjectKey> = {};
  for (const [key, spec] of Object.entries(doc.config ?? {})) config[key.includes(":") ? key : `${doc.name}:${key}`] = spec ?? {};
  return { name: doc.name, config };
}

/** The marker synth puts where a secret would be decrypted by the CLI. */
export const SECRET_PLACEHOLDER = "placeholder-secret-for-synth";

export interface StackConfigFiles {
  readonly config: Record<string, string>;
  /** Keys the CLI would mark secret: the stack file's `secure:` values and the stand-ins; never a plain value. */
  readonly secretKeys: string[];
  /** Every key the stack file sets or Pulumi.yaml defaults, as the CLI would pass them to the program. */
  readonly presentKeys: string[];
}

const toConfigString = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v));

/**
 * Project defaults overlaid by the stack file. Encrypted values (`secure:`) and secret keys the stack has not set
 * become {@link SECRET_PLACEHOLDER}, so the plan can be seen without the stack's secrets provider.
 * `configFile` replaces `Pulumi.<stack>.yaml`, as `pulumi --config-file` does (e.g. the stacks in examples/stacks/).
 */
export function readStackConfig(rootDir: string, stack: string, configFile?: string): StackConfigFiles {
  const project = readProjectFile(rootDir);
  const stackFile = configFile ? path.resolve(rootDir, configFile) : path.join(rootDir, `Pulumi.${stack}.yaml`);
  if (configFile && !fs.existsSync(stackFile)) throw new Error(`no config file ${configFile}`);
  if (!fs.existsSync(stackFile)) {
    throw new Error(missingStackMessage(rootDir, stack));
  }
  const doc = (parse(fs.readFileSync(stackFile, "utf8")) ?? {}) as { config?: Record<string, unknown> };
  const config: Record<string, string> = {};
  const secretKeys: string[] = [];
  for (const [key, spec] of Object.entries(project.config)) {
    if (spec.default !== undefined) config[key] = toConfigString(spec.default);
  }
  // Secret keys are not declared in Pulumi.yaml (see its header); the program's key table names them. Optional
  // ones stay unset, as they would in a stack that does not use them.
  for (const [name, spec] of Object.entries(KEYS)) {
    if (!("secret" in spec && spec.secret) || ("optional" in spec && spec.optional)) continue;
    config[`${project.name}:${name}`] = SECRET_PLACEHOLDER;
    secretKeys.push(`${project.name}:${name}`);
  }
  for (const [rawKey, value] of Object.entries(doc.config ?? {})) {
    const key = rawKey.includes(":") ? rawKey : `${project.name}:${rawKey}`;
    if (value && typeof value === "object" && "secure" in (value as object)) {
      config[key] = SECRET_PLACEHOLDER;
      if (!secretKeys.includes(key)) secretKeys.push(key);
    } else {
      // A plain value replaces the stand-in and is no secret: the program refuses it, as it would under pulumi up.
      config[key] = toConfigString(value);
      if (secretKeys.includes(key)) secretKeys.splice(secretKeys.indexOf(key), 1);
    }
  }
  return { config, secretKeys, presentKeys: Object.keys(config) };
}
