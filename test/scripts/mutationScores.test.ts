/**
 * What `npm run test:mutation` reports: the score per module and overall, the bar of issue #21, and --from-reports,
 * which scores the last run of each group from its JSON report (run here as npm runs it, in a scratch project).
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { describe, expect, test } from "vitest";
import { reportMutants, score, scoreTable, tally, verdict, type ModuleScore, type MutationReport } from "../../scripts/mutationScores";

const ROOT = path.resolve(__dirname, "../..");
const TSX = path.join(ROOT, "node_modules", ".bin", "tsx");

const statuses = (module: string, counts: Record<string, number>) => Object.entries(counts).flatMap(([status, n]) => Array.from({ length: n }, () => ({ module, status })));
const rowsOf = (...mutants: { module: string; status: string }[][]) => {
  const rows = new Map<string, ModuleScore>();
  for (const m of mutants) tally(m, rows);
  return [...rows.values()];
};

describe("scores", () => {
  test("killed and timed out mutants are detected; survived and uncovered are not; ignored and errors do not count", () => {
    const [row] = rowsOf(statuses("a.ts", { Killed: 6, Timeout: 2, Survived: 1, NoCoverage: 1, Ignored: 5, CompileError: 3, RuntimeError: 1 }));
    expect(row).toEqual({ module: "a.ts", killed: 6, survived: 1, timeout: 2, noCoverage: 1 });
    expect(score(row)).toBe(80);
  });

  test("the bar: 85% overall and no module under 75%, each exactly at it met", () => {
    const atBars = rowsOf(statuses("a.ts", { Killed: 3, Survived: 1 }), statuses("b.ts", { Killed: 31, Survived: 4 })); // 75%, and 34/39 = 87.2% overall
    expect(verdict(atBars)).toMatchObject({ weak: [], met: true });
    expect(verdict(rowsOf(statuses("a.ts", { Killed: 17, Survived: 3 })))).toMatchObject({ overall: 85, met: true });
    const weakOne = rowsOf(statuses("a.ts", { Killed: 74, Survived: 26 }), statuses("b.ts", { Killed: 100 }));
    expect(verdict(weakOne)).toMatchObject({ weak: ["a.ts"], met: false });
    expect(verdict(rowsOf(statuses("a.ts", { Killed: 84, Survived: 16 })))).toMatchObject({ weak: [], met: false });
    // Nothing scored is not a pass.
    expect(verdict([]).met).toBe(false);
  });

  test("the table: one row per module and one for all of them", () => {
    const table = scoreTable(rowsOf(statuses("a.ts", { Killed: 3, Survived: 1 }), statuses("b.ts", { Killed: 1, NoCoverage: 1 })));
    expect(table.split("\n")).toEqual([
      "| module | killed | survived | timeout | no coverage | score |",
      "|--------|-------:|---------:|--------:|------------:|------:|",
      "| a.ts   |      3 |        1 |       0 |           0 | 75.0% |",
      "| b.ts   |      1 |        0 |       0 |           1 | 50.0% |",
      "| all    |      4 |        1 |       0 |           1 | 66.7% |",
    ]);
  });

  test("a report's files whose source changed since the run are named stale; their mutants still count", () => {
    const report: MutationReport = { files: { "a.ts": { source: "old", mutants: [{ status: "Killed" }] }, "b.ts": { source: "same", mutants: [{ status: "Survived" }] } } };
    const { mutants, stale } = reportMutants(report, (m) => (m === "a.ts" ? "new" : "same"));
    expect(stale).toEqual(["a.ts"]);
    expect(mutants).toEqual([{ module: "a.ts", status: "Killed" }, { module: "b.ts", status: "Survived" }]);
    expect(reportMutants(report, () => undefined).stale).toEqual(["a.ts", "b.ts"]);
  });
});

describe("the groups", () => {
  test("every group mutates files that exist, against tests that exist, and docs/testing.md lists those tests", async () => {
    const { GROUPS } = (await import(pathToFileURL(path.join(ROOT, "stryker.config.mjs")).href)) as { GROUPS: Record<string, { mutate: string[]; testFiles: string[] }> };
    const docs = fs.readFileSync(path.join(ROOT, "docs", "testing.md"), "utf8").split("\n");
    for (const [name, g] of Object.entries(GROUPS)) {
      for (const f of [...g.mutate.map((m) => m.replace(/:\d+-\d+$/, "")), ...g.testFiles]) expect(fs.existsSync(path.join(ROOT, f)), `${name}: ${f}`).toBe(true);
      const row = docs.find((l) => l.startsWith(`| \`${name}\` |`));
      expect(row, `docs/testing.md has no row for the ${name} group`).toBeDefined();
      for (const t of g.testFiles) expect(row, `docs/testing.md, the ${name} group`).toContain(`\`${t}\``);
    }
  });
});

describe("npm run test:mutation -- --from-reports", () => {
  test("scores every group's last report, names a stale file and each group never run, and exits 1 until all are in", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mutation-"));
    fs.writeFileSync(path.join(dir, "stryker.config.mjs"), 'export const GROUPS = { presign: { mutate: ["p.ts"], testFiles: [] }, guard: { mutate: ["g.ts"], testFiles: [] } };\nexport default {};\n');
    fs.mkdirSync(path.join(dir, "reports", "mutation"), { recursive: true });
    fs.writeFileSync(path.join(dir, "p.ts"), "export const p = 1;\n");
    const report = (source: string, counts: Record<string, number>) => ({ files: { "p.ts": { source, mutants: statuses("p.ts", counts).map(({ status }) => ({ status })) } } });
    fs.writeFileSync(path.join(dir, "reports", "mutation", "presign.json"), JSON.stringify(report("export const p = 0;\n", { Killed: 9, Survived: 1 })));
    const run = (args: string[]) =>
      promisify(execFile)(TSX, [path.join(ROOT, "scripts", "mutation.ts"), ...args], { cwd: dir, env: { ...process.env, NO_COLOR: "1" }, timeout: 120_000 }).then(
        (r) => ({ code: 0, out: r.stdout }),
        (e: { code: number; stdout: string }) => ({ code: e.code, out: e.stdout }),
      );

    const all = await run(["--from-reports"]);
    expect(all.code).toBe(1);
    expect(all.out).toMatch(/^test:mutation: presign: reports\/mutation\/presign\.json \(\d{4}-\d\d-\d\d \d\d:\d\d UTC\); changed since, run the group again: p\.ts$/m);
    expect(all.out).toContain("| p.ts   |      9 |        1 |       0 |           0 | 90.0% |");
    expect(all.out).toContain("test:mutation: no report for guard: the table leaves them out (run npm run test:mutation -- --group guard)");

    fs.writeFileSync(path.join(dir, "reports", "mutation", "presign.json"), JSON.stringify(report("export const p = 1;\n", { Killed: 9, Survived: 1 })));
    const one = await run(["--from-reports", "--group", "presign"]);
    expect(one.code).toBe(0);
    expect(one.out).not.toMatch(/changed since|no report/);
  });
});
