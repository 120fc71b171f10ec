/**
 * A loopback HTTP server that serves files with Range support and injects the faults a long network path and a
 * CDN produce: connection resets mid-body, 500s, truncated bodies, corrupted bytes, and a Range header ignored.
 */
import { createHash } from "node:crypto";
import * as http from "node:http";
import * as https from "node:https";
import type { AddressInfo } from "node:net";

export interface Faults {
  /** The first N requests (probes included) are cut off halfway through the body. */
  resets?: number;
  /** The first N requests answer 500. */
  errors500?: number;
  /** The first N requests declare the full length but send half and end. */
  truncations?: number;
  /** Every response covering this byte offset of this path flips it. */
  corrupt?: { path: string; offset: number };
  /** Answer 200 with the whole file, whatever the Range. */
  ignoreRange?: boolean;
  /** Honour Range for the first N requests, then answer 200 with the whole file (a CDN that changes its mind). */
  ignoreRangeAfter?: number;
  /** Bytes per second per response (0: unthrottled). */
  bytesPerSecond?: number;
  /** Paths that answer 404 regardless. */
  missing?: string[];
  /** Required request header (name lowercase, value); others get 403. */
  requireHeader?: [string, string];
  /** State each file's sha256 and size as Hugging Face does for LFS files (X-Linked-Etag, X-Linked-Size). */
  linkedEtag?: boolean;
}

export interface FaultServer {
  readonly url: string;
  /** Every request: path, Range header, bytes sent. */
  readonly log: { path: string; range: string | undefined; bytes: number; status: number }[];
  faults: Faults;
  close(): Promise<void>;
}

/** With `tls` (a key and certificate in PEM), the server speaks https. */
export async function startFaultServer(files: Record<string, Buffer>, faults: Faults = {}, tls?: { key: string; cert: string }): Promise<FaultServer> {
  let count = 0;
  const log: FaultServer["log"] = [];
  const state = { faults };
  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const n = count++;
    const f = state.faults;
    const p = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname.slice(1));
    const entry = { path: p, range: req.headers.range, bytes: 0, status: 200 };
    log.push(entry);
    const data = files[p];
    const send = (status: number, body: Buffer, headers: Record<string, string | number> = {}) => {
      entry.status = status;
      res.writeHead(status, { "content-length": body.length, ...headers });
      res.end(body);
      entry.bytes += body.length;
    };
    if (f.requireHeader && req.headers[f.requireHeader[0]] !== f.requireHeader[1]) return send(403, Buffer.from("forbidden"));
    if (!data || f.missing?.includes(p)) return send(404, Buffer.from("not found"));
    if (n < (f.errors500 ?? 0)) return send(500, Buffer.from("boom"));
    let start = 0;
    let end = data.length - 1;
    let status = 200;
    const m = /^bytes=(\d+)-(\d+)?$/.exec(req.headers.range ?? "");
    if (m && !f.ignoreRange && n < (f.ignoreRangeAfter ?? Infinity)) {
      start = Number(m[1]);
      end = Math.min(m[2] === undefined ? data.length - 1 : Number(m[2]), data.length - 1);
      status = 206;
    }
    let body = Buffer.from(data.subarray(start, end + 1));
    if (f.corrupt && f.corrupt.path === p && f.corrupt.offset >= start && f.corrupt.offset <= end) body[f.corrupt.offset - start] ^= 0xff;
    const headers: Record<string, string | number> = { "content-length": body.length, "accept-ranges": "bytes" };
    if (f.linkedEtag) {
      headers["x-linked-etag"] = `"${createHash("sha256").update(data).digest("hex")}"`;
      headers["x-linked-size"] = data.length;
    }
    if (req.method === "HEAD") {
      entry.status = status;
      res.writeHead(status, headers);
      res.end();
      return;
    }
    if (status === 206) headers["content-range"] = `bytes ${start}-${end}/${data.length}`;
    entry.status = status;
    res.writeHead(status, headers);
    if (n < (f.resets ?? 0) && body.length > 1) {
      res.write(body.subarray(0, body.length >> 1), () => req.socket.destroy());
      entry.bytes += body.length >> 1;
      return;
    }
    if (n < (f.resets ?? 0) + (f.truncations ?? 0) && n >= (f.resets ?? 0) && body.length > 1) {
      res.write(body.subarray(0, body.length >> 1));
      entry.bytes += body.length >> 1;
      res.socket?.end();
      return;
    }
    const rate = f.bytesPerSecond ?? 0;
    if (!rate) {
      res.end(body);
      entry.bytes += body.length;
      return;
    }
    // Throttled: 50 ms slices.
    const slice = Math.max(1, Math.floor(rate / 20));
    const tick = () => {
      if (res.destroyed) return;
      const part = body.subarray(0, slice);
      body = body.subarray(slice);
      entry.bytes += part.length;
      if (body.length === 0) res.end(part);
      else res.write(part, () => setTimeout(tick, 50));
    };
    tick();
  };
  const server = tls ? https.createServer(tls, handler) : http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${tls ? "https" : "http"}://127.0.0.1:${port}`,
    log,
    get faults() {
      return state.faults;
    },
    set faults(v: Faults) {
      state.faults = v;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
