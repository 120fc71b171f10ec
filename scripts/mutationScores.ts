/**
 * The scores of `npm run test:mutation` (scripts/mutation.ts): tallies per module from Stryker's results or from its
 * JSON reports (mutation-testing-report-schema: files → mutants → status, with the source the run mutated), the table
 * printed, and the bar of issue #21. Pure.
 */

/** What the issue asks of the score: overall, and of the weakest module. */
export const OVERALL_MIN = 85;
export const MODULE_MIN = 75;

export interface ModuleScore {
  readonly module: string;
  killed: number;
  survived: number;
  timeout: number;
  noCoverage: number;
}

/** One mutant as Stryker's results and reports give it: a file (relative to the project) and a status. */
export interface MutantStatus {
  readonly module: string;
  readonly status: string;
}

/** Stryker's mutation score: detected (killed or timed out) of the valid mutants (errors and ignored ones aside). */
export function score(r: ModuleScore): number {
  const valid = r.killed + r.timeout + r.survived + r.noCoverage;
  return valid === 0 ? 100 : (100 * (r.killed + r.timeout)) / valid;
}

/** Adds mutants to the per-module rows; statuses that do not count (Ignored, CompileError, RuntimeError) are skipped. */
export function tally(mutants: Iterable<MutantStatus>, into: Map<string, ModuleScore>): void {
  for (const m of mutants) {
    const row = into.get(m.module) ?? { module: m.module, killed: 0, survived: 0, timeout: 0, noCoverage: 0 };
    into.set(m.module, row);
    if (m.status === "Killed") row.killed++;
    else if (m.status === "Survived") row.survived++;
    else if (m.status === "Timeout") row.timeout++;
    else if (m.status === "NoCoverage") row.noCoverage++;
  }
}

/** The part of a Stryker JSON report read here. */
export interface MutationReport {
  readonly files: Record<string, { readonly source: string; readonly mutants: readonly { readonly status: string }[] }>;
}

/**
 * The mutants of a report, and the files whose source has changed since that run (`currentSource` gives the file as
 * it is now, undefined if gone): their figures describe code that no longer exists.
 */
export function reportMutants(report: MutationReport, currentSource: (module: string) => string | undefined): { mutants: MutantStatus[]; stale: string[] } {
  const mutants: MutantStatus[] = [];
  const stale: string[] = [];
  for (const [module, file] of Object.entries(report.files)) {
    if (currentSource(module) !== file.source) stale.push(module);
    for (const m of file.mutants) mutants.push({ module, status: m.status });
  }
  return { mutants, stale };
}

function total(rows: readonly ModuleScore[]): ModuleScore {
  const all: ModuleScore = { module: "all", killed: 0, survived: 0, timeout: 0, noCoverage: 0 };
  for (const r of rows) for (const k of ["killed", "survived", "timeout", "noCoverage"] as const) all[k] += r[k];
  return all;
}

/** A Markdown table, one row per module and one for all of them. */
export function scoreTable(rows: readonly ModuleScore[]): string {
  const head = ["module", "killed", "survived", "timeout", "no coverage", "score"];
  const line = (r: ModuleScore) => [r.module, r.killed, r.survived, r.timeout, r.noCoverage, `${score(r).toFixed(1)}%`].map(String);
  const cells = [head, ...rows.map(line), line(total(rows))];
  const widths = head.map((_, i) => Math.max(...cells.map((c) => c[i].length)));
  const fmt = (c: string[]) => `| ${c.map((v, i) => (i === 0 ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join(" | ")} |`;
  return [fmt(cells[0]), `|${widths.map((w, i) => (i === 0 ? "-".repeat(w + 2) : `${"-".repeat(w + 1)}:`)).join("|")}|`, ...cells.slice(1).map(fmt)].join("\n");
}

/** The overall score and the modules under the per-module bar; `met` when both bars are (never by no mutants at all). */
export function verdict(rows: readonly ModuleScore[]): { overall: number; weak: string[]; met: boolean } {
  const all = total(rows);
  const overall = score(all);
  const weak = rows.filter((r) => score(r) < MODULE_MIN).map((r) => r.module);
  const mutants = all.killed + all.survived + all.timeout + all.noCoverage;
  return { overall, weak, met: mutants > 0 && overall >= OVERALL_MIN && weak.length === 0 };
}
