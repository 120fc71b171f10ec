import { describe, expect, test } from "vitest";
import { diffPlans, parsePlanFile, showChange } from "../../scripts/synthDiff";

const job = (schedule: string) => ({ urn: "urn:pulumi:prod::warmstart::gcp:cloudscheduler/job:Job::imagegen-warm", type: "gcp:cloudscheduler/job:Job", name: "imagegen-warm", inputs: { schedule, timeZone: "UTC" } });

describe("synth --diff", () => {
  test("reads a pulumi stack export: secrets as [secret], the stack and providers left out, only the program's inputs compared", () => {
    const exported = {
      version: 3,
      deployment: {
        resources: [
          { urn: "urn:pulumi:prod::warmstart::pulumi:pulumi:Stack::warmstart-prod", type: "pulumi:pulumi:Stack" },
          { urn: "urn:pulumi:prod::warmstart::pulumi:providers:gcp::default", type: "pulumi:providers:gcp", inputs: { project: "p" } },
          // The engine records provider defaults (region, project, __defaults) beside what the program set.
          { ...job("0 9 * * 1-5"), inputs: { schedule: "0 9 * * 1-5", timeZone: "UTC", region: "us-central1", __defaults: ["region"] } },
          {
            urn: "urn:pulumi:prod::warmstart::gcp:secretmanager/secretVersion:SecretVersion::key",
            type: "gcp:secretmanager/secretVersion:SecretVersion",
            inputs: { secretData: { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", ciphertext: "v1:abc" } },
          },
        ],
      },
    };
    const before = parsePlanFile(JSON.stringify(exported), "prod.json");
    expect(before.resources.map((r) => r.type)).toEqual(["gcp:cloudscheduler/job:Job", "gcp:secretmanager/secretVersion:SecretVersion"]);
    const secret = { urn: exported.deployment.resources[3].urn, type: exported.deployment.resources[3].type, name: "key", inputs: { secretData: "[secret]" } };
    expect(diffPlans(before, [job("0 9 * * 1-5"), secret])).toEqual({ changes: [], unchanged: 2 });
    const moved = diffPlans(before, [job("0 8 * * 1-5"), secret]);
    expect(moved.changes).toEqual([{ op: "~", urn: job("").urn, type: job("").type, name: "imagegen-warm", changes: [{ path: "schedule", before: "0 9 * * 1-5", after: "0 8 * * 1-5" }] }]);
  });

  test("a file that is neither synth --json nor a stack export is refused, saying which to give", () => {
    expect(() => parsePlanFile("{", "old.json")).toThrow(/old\.json: not JSON .*npm run synth -- --json FILE.*pulumi stack export --file FILE/);
    expect(() => parsePlanFile('{"outputs":{}}', "old.json")).toThrow(/old\.json: has no "resources" list/);
  });

  test("long strings are shown around the difference", () => {
    const shown = showChange(`${"a".repeat(50)}-0855-${"b".repeat(50)}`, `${"a".repeat(50)}-0755-${"b".repeat(50)}`);
    expect(shown).toMatch(/^"…a{10,20}-0855-b{10,20}…" => "…a{10,20}-0755-b{10,20}…"$/);
  });
});
