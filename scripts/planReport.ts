/** The planner's pictures: a weekday × hour heatmap in the terminal, and an SVG with the heatmap and the cost-vs-cold chart. Pure. */
import type { PlanOutcome } from "../components/planner";
import { DAY_NAMES } from "../components/warmWindows";

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

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

export function svgReport(bins: readonly (readonly number[])[], timeZone: string, candidates: readonly PlanOutcome[], marked: readonly PlanOutcome[]): string {
  const h = hourly(bins);
  const max = Math.max(1, ...h.flat());
  const cell = 22;
  const parts: string[] = [];
  parts.push(`<text x="10" y="20" font-family="sans-serif" font-size="14">Requests by weekday and hour (${esc(timeZone)})</text>`);
  h.forEach((row, d) => {
    parts.push(`<text x="10" y="${45 + d * cell + 15}" font-family="monospace" font-size="12">${DAY_NAMES[d]}</text>`);
    row.forEach((c, hr) => parts.push(`<rect x="${50 + hr * cell}" y="${45 + d * cell}" width="${cell - 2}" height="${cell - 2}" fill="#c0392b" fill-opacity="${(c / max).toFixed(3)}" stroke="#ddd"><title>${DAY_NAMES[d]} ${hr}:00: ${c}</title></rect>`));
  });
  for (let hr = 0; hr < 24; hr += 3) parts.push(`<text x="${50 + hr * cell}" y="${45 + 7 * cell + 14}" font-family="monospace" font-size="11">${hr}</text>`);
  // Cost vs cold fraction.
  const ox = 60;
  const oy = 520;
  const w = 480;
  const ht = 280;
  const maxCost = Math.max(1, ...candidates.map((c) => c.monthlyCost), ...marked.map((c) => c.monthlyCost));
  const maxCold = Math.max(0.01, ...candidates.map((c) => c.coldFraction), ...marked.map((c) => c.coldFraction));
  const px = (c: PlanOutcome) => ox + (c.coldFraction / maxCold) * w;
  const py = (c: PlanOutcome) => oy - (c.monthlyCost / maxCost) * ht;
  parts.push(`<text x="10" y="${oy - ht - 20}" font-family="sans-serif" font-size="14">Monthly cost (USD) vs fraction of requests cold</text>`);
  parts.push(`<line x1="${ox}" y1="${oy}" x2="${ox + w}" y2="${oy}" stroke="#333"/><line x1="${ox}" y1="${oy}" x2="${ox}" y2="${oy - ht}" stroke="#333"/>`);
  parts.push(`<text x="${ox + w - 80}" y="${oy + 30}" font-family="sans-serif" font-size="11">cold ${(maxCold * 100).toFixed(0)}%</text><text x="5" y="${oy - ht + 5}" font-family="sans-serif" font-size="11">$${maxCost.toFixed(0)}</text>`);
  for (const c of candidates) parts.push(`<circle cx="${px(c).toFixed(1)}" cy="${py(c).toFixed(1)}" r="3" fill="#7f8c8d"><title>${esc(c.name)}: $${c.monthlyCost.toFixed(0)}, ${(c.coldFraction * 100).toFixed(1)}% cold</title></circle>`);
  for (const c of marked) {
    parts.push(`<circle cx="${px(c).toFixed(1)}" cy="${py(c).toFixed(1)}" r="6" fill="none" stroke="#2c3e50" stroke-width="2"/>`);
    parts.push(`<text x="${(px(c) + 8).toFixed(1)}" y="${(py(c) - 8).toFixed(1)}" font-family="sans-serif" font-size="11">${esc(c.name)}</text>`);
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="600" height="${oy + 50}" viewBox="0 0 600 ${oy + 50}">\n${parts.join("\n")}\n</svg>\n`;
}
