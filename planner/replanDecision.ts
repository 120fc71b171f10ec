/**
 * Whether the weekly replan proposes new windows, and the stack file it proposes. Pure.
 */
import { isSeq, parseDocument } from "yaml";

export interface PlannedStrategy {
  readonly name: string;
  readonly warmWindows: string;
  readonly monthlyCost: number;
  readonly coldFraction: number;
  readonly validationColdFraction: number | null;
}

export interface PlanDocument {
  readonly goal: { readonly targetColdFraction: number } | { readonly monthlyBudget: number };
  readonly recommended: PlannedStrategy;
  readonly current: PlannedStrategy | null;
}

/** What keeps `doc` from being a {@link PlanDocument}, or undefined: the fields the decision and the description read. */
export function planDocumentProblem(doc: unknown): string | undefined {
  const strategy = (s: unknown, where: string): string | undefined => {
    if (typeof s !== "object" || s === null) return `no "${where}" object`;
    const o = s as Record<string, unknown>;
    if (typeof o.warmWindows !== "string") return `"${where}.warmWindows" is not a string`;
    for (const k of ["monthlyCost", "coldFraction"]) if (typeof o[k] !== "number") return `"${where}.${k}" is not a number`;
    return undefined;
  };
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) return "not a JSON object";
  const d = doc as Record<string, unknown>;
  const goal = d.goal as Record<string, unknown> | undefined;
  if (typeof goal !== "object" || goal === null || (typeof goal.targetColdFraction !== "number" && typeof goal.monthlyBudget !== "number")) return 'no "goal" with targetColdFraction or monthlyBudget';
  return strategy(d.recommended, "recommended") ?? (d.current === null ? undefined : strategy(d.current, "current"));
}

export interface ReplanDecision {
  readonly change: boolean;
  readonly reason: string;
}

/** Half a point: a month's cold fraction moves that much by chance on a small team's log (docs/planner.md). */
const COLD_SLACK = 0.005;

/**
 * Propose the recommendation when it saves at least `minSaving` USD a month, or when the current windows miss the
 * cold target (by more than half a point) and the recommendation meets it. Never when the windows are the same.
 */
export function decideReplan(plan: PlanDocument, minSaving: number): ReplanDecision {
  const rec = plan.recommended;
  const cur = plan.current;
  if (!cur) return { change: true, reason: "the stack has no current windows to compare with" };
  if (normalise(rec.warmWindows) === normalise(cur.warmWindows)) return { change: false, reason: "the recommendation is the current windows" };
  const saving = cur.monthlyCost - rec.monthlyCost;
  const target = "targetColdFraction" in plan.goal ? plan.goal.targetColdFraction : undefined;
  const recCold = rec.validationColdFraction ?? rec.coldFraction;
  if (target !== undefined && cur.coldFraction > target + COLD_SLACK && recCold <= target) {
    return { change: true, reason: `the current windows leave ${pct(cur.coldFraction)} of requests cold, above the ${pct(target)} target; the recommendation meets it (${pct(recCold)} validated)` };
  }
  if (saving >= minSaving && (target === undefined || recCold <= target)) {
    return { change: true, reason: `the recommendation saves $${saving.toFixed(2)} a month (at least $${minSaving}) at ${pct(recCold)} cold (validated)` };
  }
  return { change: false, reason: `the recommendation saves $${saving.toFixed(2)} a month, under the $${minSaving} that warrants a change` };
}

const pct = (f: number) => `${(f * 100).toFixed(1)}%`;
const normalise = (w: string) => w.toLowerCase().replace(/\s+/g, " ").trim();

/** The stack file with `warmstart:warmWindows` replaced, comments and the other keys as they were. */
export function withWarmWindows(stackFileText: string, warmWindows: string): string {
  const doc = parseDocument(stackFileText);
  // A stack that lists one window per item keeps its list form.
  const asList = isSeq(doc.getIn(["config", "warmstart:warmWindows"]));
  const windows = warmWindows.split(";").map((w) => w.trim()).filter((w) => w !== "");
  doc.setIn(["config", "warmstart:warmWindows"], asList ? doc.createNode(windows) : warmWindows);
  return String(doc);
}

export function pullRequestBody(o: { decision: ReplanDecision; plan: PlanDocument; table: string; heatmap: string; reportUrl: string | undefined; stack: string }): string {
  return [
    `The weekly replan proposes new warm windows for \`${o.stack}\`: ${o.decision.reason}.`,
    "",
    "```",
    `- ${o.plan.current?.warmWindows ?? "(none)"}`,
    `+ ${o.plan.recommended.warmWindows}`,
    "```",
    "",
    o.table,
    "",
    "Planned with `npm run plan -- --from-cloud-logging --stack " + o.stack + " --days 90` on the service's request log; validated cold is the cross-validated figure (docs/planner.md).",
    "",
    "<details><summary>Requests by weekday and hour</summary>",
    "",
    "```",
    o.heatmap,
    "```",
    "</details>",
    "",
    o.reportUrl ? `The full report (charts, assumptions, warnings) is the \`replan-report\` artifact of ${o.reportUrl}.` : "",
    "Merging deploys the new windows through deploy.yml; this workflow never deploys.",
  ].join("\n");
}
