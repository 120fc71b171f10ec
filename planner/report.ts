/**
 * The planner's pictures and tables: a weekday × hour heatmap in the terminal; and, drawn with Vega-Lite (rendered
 * to SVG in Node by Vega's headless view, no browser needed), the heatmap with the recommended and current windows
 * on it and the cost vs cold-fraction frontier with the target line and every strategy labelled; one self-contained
 * HTML page with both and the table; a Markdown table for the replan pull request.
 */
import type { PlanOutcome } from "./recommender";
import { DAY_NAMES } from "../components/schedule/warmWindows";

/** Requests per weekday and local hour, from half-hour bins. */
export function hourly(bins: readonly (readonly number[])[]): number[][] {
  return bins.map((day) => Array.from({ length: 24 }, (_, h) => day[2 * h] + day[2 * h + 1]));
}

const SHADES = [" ", "░", "▒", "▓", "█"];

export function terminalHeatmap(bins: readonly (readonly number[])[], timeZone: string): string {
  const h = hourly(bins);
  const max = Math.max(1, ...h.flat());
  const lines = [`Requests by weekday and hour (${timeZone}), darker = more (max ${max} in one hour-slot):`, `      ${Array.from({ length: 24 }, (_, i) => String(i).padStart(2, "0").slice(0, 1)).join("")}`, `      ${Array.from({ length: 24 }, (_, i) => String(i % 10)).join("")}`];
  h.forEach((row, d) => lines.push(`  ${DAY_NAMES[d]} ${row.map((c) => SHADES[c === 0 ? 0 : Math.min(4, 1 + Math.floor((3 * c) / max))]).join("")}`));
  return lines.join("\n");
}

/** A plan's warm stretches per day, local minutes [from, to), to draw on the heatmap. */
export interface DrawnWindows {
  readonly label: string;
  readonly spans: readonly { day: number; from: number; to: number }[];
}

export interface ReportData {
  readonly title: string;
  readonly timeZone: string;
  readonly bins: readonly (readonly number[])[];
  readonly windows: readonly DrawnWindows[];
  readonly candidates: readonly PlanOutcome[];
  readonly strategies: readonly PlanOutcome[];
  readonly targetColdFraction: number | undefined;
  /** Lines printed above the charts: what was assumed, and every warning. */
  readonly notes: readonly string[];
}

const pct = (f: number) => `${(f * 100).toFixed(1)}%`;
const usd = (n: number) => `$${n.toFixed(0)}`;

/** The Vega-Lite spec of the heatmap with the windows outlined on it. */
export function heatmapSpec(d: ReportData): object {
  const cells = hourly(d.bins).flatMap((row, day) => row.map((requests, hour) => ({ day: DAY_NAMES[day], hour, hourEnd: hour + 1, requests })));
  const spans = d.windows.flatMap((w, i) => w.spans.map((s) => ({ plan: w.label, day: DAY_NAMES[s.day], from: s.from / 60, to: s.to / 60, inset: i })));
  const y = { field: "day", type: "nominal", sort: [...DAY_NAMES], title: null };
  return {
    title: `Requests by weekday and hour (${d.timeZone}), warm windows outlined`,
    width: 720,
    height: 230,
    layer: [
      {
        data: { values: cells },
        mark: { type: "rect", stroke: "#ffffff", strokeWidth: 0.5 },
        encoding: {
          x: { field: "hour", type: "quantitative", scale: { domain: [0, 24], nice: false }, axis: { tickCount: 12, values: [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24], title: "local hour" } },
          x2: { field: "hourEnd" },
          y,
          color: { field: "requests", type: "quantitative", scale: { scheme: "oranges" }, title: "requests" },
          tooltip: [{ field: "day" }, { field: "hour" }, { field: "requests" }],
        },
      },
      {
        data: { values: spans },
        mark: { type: "rect", filled: false, strokeWidth: 2.5, opacity: 0.9 },
        encoding: {
          x: { field: "from", type: "quantitative" },
          x2: { field: "to" },
          y,
          stroke: { field: "plan", type: "nominal", scale: { range: ["#1f4e99", "#2ca02c", "#7f7f7f"] }, title: "windows" },
        },
      },
    ],
  };
}

/** The Vega-Lite spec of monthly cost against cold fraction: every candidate, the strategies labelled, the target. */
export function frontierSpec(d: ReportData): object {
  const points = d.candidates.map((c) => ({ cold: c.coldFraction * 100, cost: c.monthlyCost, windows: c.warmWindows || "(never warm)" }));
  const named = d.strategies.map((s, i) => ({
    cold: s.coldFraction * 100,
    cost: s.monthlyCost,
    name: s.name,
    label: `${s.name}: ${usd(s.monthlyCost)}/mo, ${pct(s.coldFraction)} cold${s.validationColdFraction !== undefined ? ` (${pct(s.validationColdFraction)} validated)` : ""}`,
    // Labels alternate above and below their point, so neighbours do not overprint.
    above: i % 2 === 0,
  }));
  const layers: object[] = [
    { data: { values: points }, mark: { type: "circle", size: 40, color: "#bbbbbb" }, encoding: { x: { field: "cold", type: "quantitative", title: "requests cold (%)" }, y: { field: "cost", type: "quantitative", title: "USD per month" }, tooltip: [{ field: "windows" }, { field: "cost", format: ".0f" }, { field: "cold", format: ".2f" }] } },
    { data: { values: named }, mark: { type: "point", size: 120, filled: true }, encoding: { x: { field: "cold", type: "quantitative" }, y: { field: "cost", type: "quantitative" }, color: { field: "name", type: "nominal", title: "strategy" } } },
    ...[true, false].map((above) => ({
      data: { values: named.filter((n) => n.above === above) },
      mark: { type: "text", align: "left", dx: 8, dy: above ? -10 : 12, fontSize: 11 },
      encoding: { x: { field: "cold", type: "quantitative" }, y: { field: "cost", type: "quantitative" }, text: { field: "label" } },
    })),
  ];
  if (d.targetColdFraction !== undefined) {
    const t = d.targetColdFraction * 100;
    layers.push(
      { data: { values: [{ cold: t }] }, mark: { type: "rule", strokeDash: [4, 4], color: "#d62728" }, encoding: { x: { field: "cold", type: "quantitative" } } },
      { data: { values: [{ cold: t, label: `target ${t.toFixed(1)}%` }] }, mark: { type: "text", color: "#d62728", align: "left", dx: 4, y: 8 }, encoding: { x: { field: "cold", type: "quantitative" }, text: { field: "label" } } },
    );
  }
  return { title: "Monthly cost vs requests cold (each grey dot a candidate plan)", width: 720, height: 320, layer: layers };
}

/** Renders a Vega-Lite spec to SVG in Node. Vega is ESM-only with a top-level await, hence the dynamic imports. */
export async function renderSvg(spec: object): Promise<string> {
  const vega = await import("vega");
  const vl = await import("vega-lite");
  // Vega-Lite's notes on dropped encodings go nowhere: the specs above are fixed, and a test renders them.
  const logger = { level: () => logger, error: (...a: unknown[]) => console.error(...a), warn: () => logger, info: () => logger, debug: () => logger } as never;
  const compiled = vl.compile({ $schema: "https://vega.github.io/schema/vega-lite/v6.json", ...spec } as never, { logger });
  const view = new vega.View(vega.parse(compiled.spec), { renderer: "none" });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}

export interface TableRow {
  readonly strategy: string;
  readonly monthly: string;
  readonly cold: string;
  readonly validated: string;
  readonly p95: string;
  readonly windows: string;
  readonly jobs: string;
  readonly warmWindows: string;
}

export function tableRows(strategies: readonly PlanOutcome[]): TableRow[] {
  return strategies.map((s) => ({
    strategy: s.name,
    monthly: `$${s.monthlyCost.toFixed(2)}`,
    cold: pct(s.coldFraction),
    validated: s.validationColdFraction === undefined ? "" : pct(s.validationColdFraction),
    p95: `${s.waitP95Seconds.toFixed(0)} s`,
    windows: String(s.windowCount),
    jobs: String(s.schedulerJobs),
    warmWindows: s.warmWindows || "(never warm)",
  }));
}

const HEADERS = ["strategy", "$/month", "cold", "validated cold", "p95 wait", "windows", "scheduler jobs", "warmWindows"];

export function markdownTable(strategies: readonly PlanOutcome[]): string {
  const rows = tableRows(strategies).map((r) => `| ${r.strategy} | ${r.monthly} | ${r.cold} | ${r.validated} | ${r.p95} | ${r.windows} | ${r.jobs} | \`${r.warmWindows}\` |`);
  return [`| ${HEADERS.join(" | ")} |`, `|${HEADERS.map(() => "---").join("|")}|`, ...rows].join("\n");
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** One self-contained page: no script, no external resource (the SVGs are inline). */
export async function htmlReport(d: ReportData): Promise<string> {
  const [heat, front] = await Promise.all([renderSvg(heatmapSpec(d)), renderSvg(frontierSpec(d))]);
  const rows = tableRows(d.strategies)
    .map((r) => `<tr><td>${esc(r.strategy)}</td><td class="n">${r.monthly}</td><td class="n">${r.cold}</td><td class="n">${r.validated}</td><td class="n">${r.p95}</td><td class="n">${r.windows}</td><td class="n">${r.jobs}</td><td><code>${esc(r.warmWindows)}</code></td></tr>`)
    .join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(d.title)}</title>
<style>body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1100px}h1{font-size:20px}ul{font-size:13px;color:#444}
table{border-collapse:collapse;font-size:13px;margin-top:12px}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}td.n{text-align:right}
section{margin:18px 0}</style></head>
<body>
<h1>${esc(d.title)}</h1>
<ul id="notes">${d.notes.map((n) => `<li>${esc(n)}</li>`).join("")}</ul>
<section id="heatmap">${heat}</section>
<section id="frontier">${front}</section>
<section><table id="strategies"><thead><tr>${HEADERS.map((h) => `<th>${h}</th>`).join("")}</tr></thead><tbody>
${rows}
</tbody></table></section>
</body></html>
`;
}
