/**
 * The made-up values of the example stacks (Pulumi.prod.yaml, examples/stacks/): a stack that still holds one would
 * deploy to someone else's project, bill a nonexistent account or trust a stranger's repository. Pure.
 */

/** Full key → the example values it must not keep. */
export const EXAMPLE_VALUES: Readonly<Record<string, readonly string[]>> = {
  "gcp:project": ["acme-imagegen-prod", "example-tts-prod", "example-imagegen-dev", "example-rembg-dev", "example-llm-prod"],
  "warmstart:billingAccount": ["0A1B2C-3D4E5F-6A7B8C", "01A2B3-C4D5E6-F7A8B9"],
  "warmstart:cloudflareAccountId": ["0123456789abcdef0123456789abcdef", "00112233445566778899aabbccddeeff"],
  "warmstart:cloudflareZoneId": ["fedcba9876543210fedcba9876543210"],
  "warmstart:githubRepository": ["acme/imagegen-infra", "example-org/imagegen-infra"],
  "warmstart:stateBucket": ["acme-imagegen-pulumi-state", "example-imagegen-pulumi-state"],
  "warmstart:modelsDomain": ["models.acme-imagegen.com", "weights.example.com"],
};

/** One warning per key that still holds an example value; lists are checked item by item. */
export function exampleValueWarnings(raw: (fullKey: string) => string | undefined): string[] {
  const out: string[] = [];
  for (const [key, examples] of Object.entries(EXAMPLE_VALUES)) {
    const v = raw(key)?.trim();
    if (v !== undefined && examples.includes(v)) out.push(`${key} is still the example's made-up value ${JSON.stringify(v)}: set your own (pulumi config set ${key} <value>) before pulumi up`);
  }
  for (const key of ["warmstart:invokers", "warmstart:alertEmails"]) {
    const v = raw(key) ?? "";
    for (const domain of ["acme-imagegen-prod.iam.gserviceaccount.com", "@acme-imagegen.com", "@example.com"]) {
      if (v.includes(domain)) out.push(`${key} still names the example's made-up ${domain.replace(/^@/, "")}: set your own`);
    }
  }
  return out;
}
