/**
 * The fetcher's HTTP/1.1 client: GETs over one keep-alive connection per pool slot, each body handed to the caller
 * from the socket's own read buffer.
 *
 * Why not undici: its parser copies every received byte into WebAssembly memory, and every read allocates a buffer
 * that the garbage collector then chases; at 640 MB/s that cost ~1 s of CPU per 1.6 GB on the benchmark machine,
 * where the fetcher shares two cores with the server (docs/benchmarks.md). Here the kernel reads into one reusable
 * buffer per connection (`onread`), and the caller writes the body to disk from it: no copy, no allocation, no
 * promise per read.
 *
 * Only what the fetcher needs: GET, http and https, bodies with a Content-Length. A response without one (chunked)
 * reaches `onHead` with `contentLength` undefined, and the caller refuses it; so does any status it does not want,
 * and the connection is then closed rather than drained.
 */
import * as net from "node:net";
import * as tls from "node:tls";

export interface ResponseHead {
  readonly status: number;
  /** Lower-case names; a repeated header keeps its last value. */
  readonly headers: Readonly<Record<string, string>>;
  /** Body bytes; undefined without a Content-Length (e.g. chunked), which this client cannot read. */
  readonly contentLength: number | undefined;
}

/** Takes body bytes `buf[start, end)`, in order. `buf` is reused for the next read: write or copy them before returning. */
export type BodySink = (buf: Buffer, start: number, end: number) => void;

/** The connection failed (reset, closed early, timed out, not HTTP): worth another attempt. */
export class HttpError extends Error {}

/** Closed by the server while idle, noticed only by the next request: resent once on a new connection. */
class StaleConnection extends HttpError {}

const CRLFCRLF = Buffer.from("\r\n\r\n");
/** Longer response heads are refused: a sane server's fit in a few KiB. */
const MAX_HEAD_BYTES = 64 * 1024;
/** The socket's read buffer: a read returns at most this much. */
const READ_BUFFER_BYTES = 256 * 1024;

/** Whether `name` can be an HTTP header's name (RFC 9110 token). */
export function isHeaderName(name: string): boolean {
  return /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name);
}

/** Whether `value` can be sent as a header's value: no line break or NUL (which would end or split the header). */
export function isHeaderValue(value: string): boolean {
  return !/[\r\n\0]/.test(value);
}

interface Exchange {
  readonly onHead: (head: ResponseHead) => BodySink;
  /** Head bytes so far, when the head spans reads. */
  head: Buffer | undefined;
  sink: BodySink | undefined;
  remaining: number;
  keepAlive: boolean;
  /** Any byte of the response arrived. */
  answered: boolean;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

export class HttpConnection {
  private socket: net.Socket | undefined;
  private origin = "";
  private active: Exchange | undefined;
  private readonly readBuffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);

  /** `timeoutMs`: longest wait for the connection, the head or the next body bytes. */
  constructor(private readonly timeoutMs: number) {}

  /**
   * GETs `url`. `onHead` sees the status and headers and returns where the body goes, or throws to refuse it (the
   * promise then rejects with what it threw). Resolves once every body byte has gone to the sink; rejects with an
   * {@link HttpError} when the connection fails, or with what the sink threw.
   */
  async get(url: URL, headers: Readonly<Record<string, string>>, onHead: (head: ResponseHead) => BodySink): Promise<void> {
    const reused = this.socket !== undefined && this.origin === url.origin;
    try {
      await this.exchange(url, headers, onHead);
    } catch (err) {
      if (!(reused && err instanceof StaleConnection)) throw err;
      await this.exchange(url, headers, onHead);
    }
  }

  /** Ends the request in flight, if any, with `reason`, and closes the connection. */
  abort(reason: Error): void {
    this.fail(reason);
  }

  close(): void {
    this.drop();
  }

  private exchange(url: URL, headers: Readonly<Record<string, string>>, onHead: (head: ResponseHead) => BodySink): Promise<void> {
    let request = `GET ${url.pathname}${url.search} HTTP/1.1\r\nhost: ${url.host}\r\nuser-agent: warmstart-fetch\r\n`;
    for (const [name, value] of Object.entries(headers)) {
      // Header values are often secrets: the errors name the header, never the value.
      if (!isHeaderName(name)) throw new Error(`header name "${name}" is not a valid HTTP token`);
      if (!isHeaderValue(value)) throw new Error(`header "${name}" has a line break or NUL in its value`);
      request += `${name}: ${value}\r\n`;
    }
    request += "\r\n";
    if (this.origin !== url.origin) this.drop();
    const socket = this.socket ?? this.connect(url);
    return new Promise<void>((resolve, reject) => {
      this.active = { onHead, head: undefined, sink: undefined, remaining: 0, keepAlive: true, answered: false, resolve, reject };
      socket.setTimeout(this.timeoutMs);
      socket.write(request, "latin1");
    });
  }

  private connect(url: URL): net.Socket {
    const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
    const https = url.protocol === "https:";
    const port = Number(url.port || (https ? 443 : 80));
    const onread = {
      buffer: this.readBuffer,
      callback: (n: number, buf: Uint8Array) => {
        this.onData(buf as Buffer, n);
        return true;
      },
    };
    // tls.connect takes onread too (Node docs), though @types/node does not say so.
    const socket = https
      ? tls.connect({ host, port, servername: net.isIP(host) ? undefined : host, ALPNProtocols: ["http/1.1"], onread } as tls.ConnectionOptions)
      : net.connect({ host, port, onread });
    socket.setNoDelay(true);
    socket.on("timeout", () => socket.destroy(new HttpError(`no answer for ${this.timeoutMs / 1000} s`)));
    socket.on("error", (err) => this.fail(err instanceof HttpError ? err : new HttpError(err.message), socket));
    socket.on("close", () => this.fail(new HttpError("the server closed the connection before the response ended"), socket));
    this.socket = socket;
    this.origin = url.origin;
    return socket;
  }

  /** Forgets the connection, closing it; an exchange on it is not told (callers fail it first). */
  private drop(): void {
    const socket = this.socket;
    this.socket = undefined;
    socket?.destroy();
  }

  /** Ends the exchange in flight with `err` and closes its connection (only `from`'s, when given). */
  private fail(err: Error, from?: net.Socket): void {
    if (from !== undefined && from !== this.socket) return;
    const ex = this.active;
    this.active = undefined;
    this.drop();
    if (!ex) return;
    ex.reject(!ex.answered && err instanceof HttpError && !(err instanceof StaleConnection) ? new StaleConnection(err.message) : err);
  }

  private onData(buf: Buffer, n: number): void {
    const socket = this.socket;
    let off = 0;
    while (off < n) {
      const ex = this.active;
      // Bytes nobody asked for: the server is not speaking HTTP/1.1 as we do; this connection cannot be trusted.
      if (!ex) return this.drop();
      ex.answered = true;
      if (!ex.sink) {
        const bodyStart = this.readHead(ex, buf, off, n);
        if (bodyStart === undefined || this.socket !== socket) return;
        off = bodyStart;
        if (ex.sink && ex.remaining === 0) this.complete(ex);
        continue;
      }
      const end = Math.min(n, off + ex.remaining);
      try {
        ex.sink(buf, off, end);
      } catch (err) {
        return this.fail(err as Error);
      }
      ex.remaining -= end - off;
      off = end;
      if (ex.remaining === 0) {
        this.complete(ex);
        // More bytes after a complete body: the server sent something unasked; do not reuse the connection.
        if (off < n) return this.drop();
      }
    }
  }

  /** Consumes head bytes from `buf[off, n)`; returns where the body starts once the head is complete. */
  private readHead(ex: Exchange, buf: Buffer, off: number, n: number): number | undefined {
    let head: Buffer;
    let bodyStart: number;
    if (ex.head === undefined) {
      const at = buf.subarray(off, Math.min(n, off + MAX_HEAD_BYTES)).indexOf(CRLFCRLF);
      if (at < 0) {
        ex.head = Buffer.from(buf.subarray(off, n));
        if (ex.head.length > MAX_HEAD_BYTES) this.fail(new HttpError(`response head longer than ${MAX_HEAD_BYTES} bytes`));
        return undefined;
      }
      head = buf.subarray(off, off + at);
      bodyStart = off + at + 4;
    } else {
      const joined = Buffer.concat([ex.head, buf.subarray(off, Math.min(n, off + MAX_HEAD_BYTES))]);
      const at = joined.indexOf(CRLFCRLF);
      if (at < 0) {
        ex.head = Buffer.concat([ex.head, buf.subarray(off, n)]);
        if (ex.head.length > MAX_HEAD_BYTES) this.fail(new HttpError(`response head longer than ${MAX_HEAD_BYTES} bytes`));
        return undefined;
      }
      head = joined.subarray(0, at);
      bodyStart = off + at + 4 - ex.head.length;
      ex.head = undefined;
    }
    const lines = head.toString("latin1").split("\r\n");
    const m = /^HTTP\/1\.([01]) (\d{3})/.exec(lines[0]);
    if (!m) {
      this.fail(new HttpError("the answer is not an HTTP/1.x response"));
      return undefined;
    }
    const status = Number(m[2]);
    // An interim answer (100 Continue and the like): the real head follows.
    if (status >= 100 && status < 200) return bodyStart;
    // No prototype: a header named __proto__ stays a header.
    const headers = Object.create(null) as Record<string, string>;
    for (const line of lines.slice(1)) {
      const i = line.indexOf(":");
      if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
    }
    const length = headers["transfer-encoding"] === undefined && /^\d+$/.test(headers["content-length"] ?? "") ? Number(headers["content-length"]) : undefined;
    ex.keepAlive = m[1] === "1" && !/(^|,)\s*close\s*(,|$)/i.test(headers.connection ?? "");
    try {
      const sink = ex.onHead({ status, headers, contentLength: length });
      if (length === undefined) throw new HttpError("a response without Content-Length cannot be read");
      ex.sink = sink;
      ex.remaining = length;
    } catch (err) {
      this.fail(err as Error);
      return undefined;
    }
    return bodyStart;
  }

  private complete(ex: Exchange): void {
    this.active = undefined;
    if (ex.keepAlive) this.socket?.setTimeout(0);
    else this.drop();
    ex.resolve();
  }
}
