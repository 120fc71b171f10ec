/**
 * Reads a request log for the warm-window planner: CSV with a `timestamp` column, or NDJSON as Cloud Logging
 * exports it (a `timestamp` field per line). Timestamps are ISO 8601 or epoch milliseconds. Pure.
 */

export interface BadRow {
  /** 1-based line number in the file. */
  readonly line: number;
  readonly reason: string;
}

export interface RequestLog {
  /** Request instants, epoch ms, sorted. */
  readonly times: number[];
  readonly badRows: BadRow[];
}

export class RequestLogError extends Error {}

function parseTimestamp(raw: unknown): number | string {
  if (typeof raw === "number") return Number.isFinite(raw) && raw > 1e11 ? raw : `timestamp ${raw} is not epoch milliseconds`;
  if (typeof raw !== "string" || raw.trim() === "") return "no timestamp";
  const t = raw.trim();
  if (/^\d{11,14}$/.test(t)) return Number(t);
  if (!/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}/.test(t)) return `timestamp "${t}" is neither ISO 8601 nor epoch milliseconds`;
  const ms = Date.parse(t.replace(" ", "T"));
  return Number.isNaN(ms) ? `timestamp "${t}" is not a valid date` : ms;
}

/** Splits one CSV line, honouring double-quoted fields. */
function csvFields(line: string): string[] {
  const out: string[] = [];
  let cur = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") {
      out.push(cur);
      cur = "";
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

export function parseRequestLog(text: string, file: string): RequestLog {
  const lines = text.split(/\r?\n/);
  const firstLine = lines.findIndex((l) => l.trim() !== "");
  if (firstLine < 0) throw new RequestLogError(`${file}: empty; expected CSV with a timestamp column or NDJSON with a timestamp field`);
  const times: number[] = [];
  const badRows: BadRow[] = [];
  if (lines[firstLine].trim().startsWith("{")) {
    lines.forEach((line, i) => {
      if (line.trim() === "") return;
      let row: { timestamp?: unknown };
      try {
        row = JSON.parse(line) as { timestamp?: unknown };
      } catch {
        badRows.push({ line: i + 1, reason: "not a JSON object" });
        return;
      }
      const t = parseTimestamp(row?.timestamp);
      if (typeof t === "number") times.push(t);
      else badRows.push({ line: i + 1, reason: t });
    });
  } else {
    const header = csvFields(lines[firstLine]).map((h) => h.trim().toLowerCase());
    const col = header.indexOf("timestamp");
    if (col < 0) throw new RequestLogError(`${file}:${firstLine + 1}: the CSV header has no "timestamp" column (got ${header.join(", ")})`);
    for (let i = firstLine + 1; i < lines.length; i++) {
      if (lines[i].trim() === "") continue;
      const fields = csvFields(lines[i]);
      const t = parseTimestamp(fields[col]);
      if (typeof t === "number") times.push(t);
      else badRows.push({ line: i + 1, reason: t });
    }
  }
  if (times.length === 0) {
    const sample = badRows.slice(0, 3).map((b) => `line ${b.line}: ${b.reason}`).join("; ");
    throw new RequestLogError(`${file}: no usable rows${sample ? ` (${sample})` : ""}`);
  }
  times.sort((a, b) => a - b);
  return { times, badRows };
}
