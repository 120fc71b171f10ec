import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect, test } from "vitest";

const ROOT = path.resolve(__dirname, "../..");
const TSX = path.join(ROOT, "node_modules", ".bin", "tsx");
const synth = (...args: string[]) => spawnSync(TSX, ["scripts/synth.ts", ...args], { cwd: ROOT, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "warmstart-synth-diff-"));
const jsonFile = path.join(tmp, "plan.json");

// Three synth runs (about 3 s each): in the slow suite to keep npm test in its budget.
test("--diff against an earlier --json lists only what a change of warmWindows touches: jobs, dashboard, guard, reconcile", () => {
  expect(synth("--stack", "prod", "--json", jsonFile, "--now", "2026-11-27T19:00:00Z").status).toBe(0);
  const changed = path.join(tmp, "Pulumi.changed.yaml");
  fs.writeFileSync(changed, fs.readFileSync(path.join(ROOT, "Pulumi.prod.yaml"), "utf8").replace(/warmstart:warmWindows: .*/, 'warmstart:warmWindows: "weekdays 08:00-21:00; sat,sun 12:00-18:00; fri 18:00-23:30 x2"'));
  const diff = synth("--stack", "prod", "--config-file", changed, "--diff", jsonFile, "--now", "2026-11-27T19:00:00Z");
  expect(diff.status).toBe(0);
  const section = diff.stdout.slice(diff.stdout.indexOf("Changes against"), diff.stdout.indexOf(" unchanged") + 10);
  const touched = [...section.matchAll(/^ {2}([+~-]) (\S+) {2}(\S+)$/gm)].map((m) => `${m[1]} ${m[2]} ${m[3]}`);
  expect(touched.sort()).toEqual(
    [
      "+ gcp:cloudscheduler/job:Job imagegen-warm-weekdays-0755-to-1",
      "+ gcp:cloudscheduler/job:Job imagegen-warmup-weekdays-0800",
      "- gcp:cloudscheduler/job:Job imagegen-warm-weekdays-0855-to-1",
      "- gcp:cloudscheduler/job:Job imagegen-warmup-weekdays-0900",
      "~ command:local:Command imagegen-reconcile",
      "~ gcp:cloudfunctionsv2/function:Function imagegen-guard",
      "~ gcp:monitoring/dashboard:Dashboard imagegen-dashboard",
    ].sort(),
  );
  expect(section).toMatch(/GUARD_SCHEDULE\(json\)\.edges\[0\]\.minuteOfWeek: 535 => 475/);
  expect(section).toMatch(/2 to create, 3 to update, 2 to delete, \d+ unchanged/);
  // The same plan against itself: nothing to do.
  const same = synth("--stack", "prod", "--diff", jsonFile, "--now", "2026-11-27T19:00:00Z");
  expect(same.stdout.slice(same.stdout.indexOf("Changes"), same.stdout.indexOf("Changes") + 600)).toMatch(/Changes against [\s\S]*?\n {2}none\n {2}0 to create, 0 to update, 0 to delete/);
});
