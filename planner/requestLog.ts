/**
 * Reads a request log for the warm-window planner: CSV with a `timestamp` column, NDJSON as Cloud Logging exports
 * it (a `timestamp` field per line), or the JSON array `gcloud logging read --format=json` prints. Timestamps are ISO
 * 8601 with a UTC offset, or epoch milliseconds. Pure.
 *
 * A timestamp without an offset ("2026-11-02 10:00") names a wall-clock time in some zone the file does not say:
 * read in the reader's own zone, two teammates would get two plans. It is an error unless the caller names the
 * zone (`--assume-timezone`).
 *
 * Session starts: a CSV column `session_start` (true, 1 or yes) or an NDJSON field `sessionStart: true` marks a
 * request as the first of a user's session, for the prewarm-on-page-view strategy.
 */
import { utcOffsetMinutes } from "../components/schedule/warmWindows";

export interface BadRow {
  /** 1-based line number in the file (the entry's index for a JSON array). */
  readonly line: number;
  readonly reason: string;
}

export interface RequestLog {
  /** Request instants, epoch ms, sorted. */
  readonly times: number[];
  /** Instants of requests marked as a session's first (sorted); empty when the log marks none. */
  readonly sessionStarts: number[];
  readonly badRows: BadRow[];
}

export class RequestLogError extends Error {}

export interface ReadOptions {
  /** IANA zone that timestamps without an offset are in. */
  readonly assumeTimeZone?: string;
}

const OFFSET_RE = /(Z|[+-]\d{2}(:?\d{2})?)$/i;

/** Epoch ms of a wall-clock reading in a zone (the offset looked up at the instant itself, twice for DST edges). */
export function wallTimeToEpoch(y: number, mo: number, d: number, h: number, mi: number, s: number, ms: number, timeZone: string): number {
  const naive = Date.UTC(y, mo - 1, d, h, mi, s, ms);
  let t = naive - utcOffsetMinutes(new Date(naive), timeZone) * 60_000;
  t = naive - utcOffsetMinutes(new Date(t), timeZone) * 60_000;
  return t;
}

type Parsed = number | { problem: string } | { naive: string };

function parseTimestamp(raw: unknown, o: ReadOptions): Parsed {
  if (typeof raw === "number") return Number.isFinite(raw) && raw > 1e11 ? raw : { problem: `timestamp ${raw} is not epoch milliseconds` };
  if (typeof raw !== "string" || raw.trim() === "") return { problem: "no timestamp" };
  const t = raw.trim();
  if (/^\d{11,14}$/.test(t)) return Number(t);
  const m = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?/.exec(t);
  if (!m) return { problem: `timestamp "${t}" is neither ISO 8601 nor epoch milliseconds` };
  if (!OFFSET_RE.test(t)) {
    if (!o.assumeTimeZone) return { naive: t };
    const [, y, mo, d, h, mi, s, frac] = m;
    return wallTimeToEpoch(+y, +mo, +d, +h, +mi, +(s ?? 0), Math.round(Number(`0.${frac ?? 0}`) * 1000), o.assumeTimeZone);
  }
  const ms = Date.parse(t.replace(" ", "T"));
  return Number.isNaN(ms) ? { problem: `timestamp "${t}" is not a valid date` } : ms;
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

const truthy = (v: unknown) => v === true || (typeof v === "string" && /^(true|1|yes)$/i.test(v.trim()));

export function parseRequestLog(text: string, file: string, o: ReadOptions = {}): RequestLog {
  const lines = text.split(/\r?\n/);
  const firstLine = lines.findIndex((l) => l.trim() !== "");
  if (firstLine < 0) throw new RequestLogError(`${file}: empty; expected CSV with a timestamp column or NDJSON with a timestamp field`);
  const times: number[] = [];
  const sessionStarts: number[] = [];
  const badRows: BadRow[] = [];
  const take = (line: number, raw: unknown, session: boolean) => {
    const t = parseTimestamp(raw, o);
    if (typeof t === "number") {
      times.push(t);
      if (session) sessionStarts.push(t);
    } else if ("naive" in t) {
      throw new RequestLogError(
        `${file}:${line}: timestamp "${t.naive}" has no UTC offset, so it could be read in any zone; ` +
          `write it with one (e.g. 2026-11-02T10:00:00Z or 2026-11-02T10:00:00+01:00), or name the zone it is in: --assume-timezone Europe/Berlin`,
      );
    } else badRows.push({ line, reason: t.problem });
  };
  const first = lines[firstLine].trim();
  if (first.startsWith("[")) {
    let entries: unknown;
    try {
      entries = JSON.parse(text);
    } catch {
      throw new RequestLogError(`${file}: starts with "[" but is not a JSON array (expected what gcloud logging read --format=json prints)`);
    }
    if (!Array.isArray(entries)) throw new RequestLogError(`${file}: expected a JSON array of log entries`);
    entries.forEach((e, i) => take(i + 1, (e as { timestamp?: unknown })?.timestamp, truthy((e as { sessionStart?: unknown })?.sessionStart)));
  } else if (first.startsWith("{")) {
    lines.forEach((line, i) => {
      if (line.trim() === "") return;
      let row: { timestamp?: unknown; sessionStart?: unknown };
      try {
        row = JSON.parse(line) as { timestamp?: unknown };
      } catch {
        badRows.push({ line: i + 1, reason: "not a JSON object" });
        return;
      }
      take(i + 1, row?.timestamp, truthy(row?.sessionStart));
    });
  } else {
    const header = csvFields(lines[firstLine]).map((h) => h.trim().toLowerCase());
    const col = header.indexOf("timestamp");
    const sessionCol = header.indexOf("session_start");
    if (col < 0) throw new RequestLogError(`${file}:${firstLine + 1}: the CSV header has no "timestamp" column (got ${header.join(", ")}); e.g. "timestamp,user" then "2026-11-02T10:00:00Z,ana"`);
    for (let i = firstLine + 1; i < lines.length; i++) {
      if (lines[i].trim() === "") continue;
      const fields = csvFields(lines[i]);
      take(i + 1, fields[col], sessionCol >= 0 && truthy(fields[sessionCol]));
    }
  }
  if (times.length === 0) {
    const sample = badRows.slice(0, 3).map((b) => `line ${b.line}: ${b.reason}`).join("; ");
    throw new RequestLogError(`${file}: no usable rows${sample ? ` (${sample})` : ""}`);
  }
  times.sort((a, b) => a - b);
  sessionStarts.sort((a, b) => a - b);
  return { times, sessionStarts, badRows };
}
