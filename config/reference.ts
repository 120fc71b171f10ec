/**
 * What the key table (KEYS) generates: the `config:` block of Pulumi.yaml (with the header that names the secret
 * keys, which are not declared there) and docs/configuration.md. `npm run gen:config` writes both; a test fails when
 * either is stale. Pure: text in, text out.
 */
import { L4_REGIONS } from "../components/service/l4";
import { KEYS, type KeySpec } from "./keys";

type Spec = KeySpec<unknown>;
const entries = (): [string, Spec][] => Object.entries(KEYS) as [string, Spec][];

/** The line from which Pulumi.yaml is generated; everything above it is written by hand. */
export const GENERATED_MARKER = "# Generated from config/keys.ts by `npm run gen:config`: edit the key table there, not below.";

/** Provider keys every stack sets; not the program's, so not in KEYS. */
export const PROVIDER_KEYS: readonly { readonly key: string; readonly description: string }[] = [
  { key: "gcp:project", description: "Google Cloud project id to deploy to." },
  { key: "gcp:region", description: `Region with Cloud Run L4 GPUs: ${L4_REGIONS.map((r) => r.region + (r.invitationOnly ? " (by invitation)" : "")).join(", ")} (components/service/l4.ts).` },
];

/** The generated tail of Pulumi.yaml: the marker, the secret keys' header and the `config:` block. */
export function pulumiYamlConfig(): string {
  const secrets = entries().filter(([, s]) => s.secret);
  const width = Math.max(...secrets.map(([k]) => `warmstart:${k}`.length));
  const lines = [
    GENERATED_MARKER,
    "# Secret keys are not declared here: the CLI makes every declared key without a default required in every stack,",
    "# even where the stack does not use it. The program owns them (config/keys.ts) and refuses a plain-text value:",
    ...secrets.map(([k, s]) => `#   ${`warmstart:${k}`.padEnd(width)} (pulumi config set --secret warmstart:${k} ${s.placeholder ?? "<value>"})`),
    "config:",
  ];
  for (const [k, s] of entries()) {
    if (s.secret) continue;
    if (s.yamlNote) lines.push(`  # ${s.yamlNote}`);
    lines.push(`  ${k}:`);
    if (s.type) lines.push(`    type: ${s.type}`);
    if (s.type === "array") lines.push("    items:", "      type: string");
    lines.push(`    description: ${JSON.stringify(s.description)}`);
    if (s.default !== undefined) lines.push(`    default: ${JSON.stringify(s.default)}`);
  }
  return `${lines.join("\n")}\n`;
}

/** Pulumi.yaml with its generated tail replaced; throws when the marker is missing. */
export function withGeneratedConfig(pulumiYaml: string): string {
  const at = pulumiYaml.indexOf(GENERATED_MARKER);
  if (at < 0) throw new Error(`Pulumi.yaml has no line ${JSON.stringify(GENERATED_MARKER)}: put it where the generated config block begins`);
  return pulumiYaml.slice(0, at) + pulumiYamlConfig();
}

const cell = (text: string) => text.replace(/\|/g, "\\|");

function docType(s: Spec): string {
  const type = s.docType ?? s.type ?? "string";
  return s.range && s.type === "integer" ? `${type} ${s.range}` : s.range ? `${type}, ${s.range}` : type;
}

function docDefault(s: Spec): string {
  if (s.secret) return s.optional ? "— (optional)" : "— (required where used)";
  return s.default === undefined ? "— (required)" : `\`${JSON.stringify(s.default)}\``;
}

/** docs/configuration.md: every key, its type, default and what it changes. */
export function configurationMarkdown(): string {
  const rows = [
    ...PROVIDER_KEYS.map((p) => `| \`${p.key}\` | string | — (required) | ${cell(p.description)} |`),
    ...entries().map(([k, s]) => `| \`warmstart:${k}\` | ${docType(s)} | ${docDefault(s)} | ${cell(s.description)} |`),
  ];
  const secrets = entries().filter(([, s]) => s.secret);
  return [
    "# Configuration reference",
    "",
    "<!-- Generated from config/keys.ts by `npm run gen:config`; edit the key table there. -->",
    "",
    "Every key the stack reads. Set one with `pulumi config set <key> <value>`; lists with",
    "`pulumi config set --path 'warmstart:invokers[0]' <value>` or as JSON. A key the program does not know is refused",
    "with the closest name. Secrets are set with `--secret` and never declared in `Pulumi.yaml`:",
    "",
    "```bash",
    ...secrets.map(([k, s]) => `pulumi config set --secret warmstart:${k} ${s.placeholder ?? "<value>"}`),
    "```",
    "",
    "| key | type | default | what it changes |",
    "|---|---|---|---|",
    ...rows,
    "",
  ].join("\n");
}
