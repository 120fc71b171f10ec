/**
 * The model server's side of a proxied WebSocket, passed through byte for byte, which the supervisor can end with a
 * close frame of its own when the instance stops. The proxy is a byte pipe, so a close frame may only go in between
 * two of the model server's frames: this follows the response head and the frame headers (RFC 6455 §5.2) to know
 * where those boundaries are. A control frame may go between the fragments of a message (RFC 6455 §5.4).
 * Pure: node:stream only.
 */
import { Transform, type TransformCallback } from "node:stream";

/** 1001 "going away": the server is going down (RFC 6455 §7.4.1). */
export const GOING_AWAY = 1001;

/** A close frame from the server (unmasked), with a status code and a short reason (at most 123 bytes). */
export function closeFrame(code: number, reason = ""): Buffer {
  const text = Buffer.from(reason).subarray(0, 123);
  const payload = Buffer.alloc(2 + text.length);
  payload.writeUInt16BE(code, 0);
  text.copy(payload, 2);
  return Buffer.concat([Buffer.from([0x88, payload.length]), payload]);
}

/** The response head is read up to this size; a longer one is passed through but not followed. */
const MAX_HEAD = 64 * 1024;

export class WebSocketRelay extends Transform {
  /** "head": before the end of the HTTP response head; "frames": a WebSocket; "opaque": anything else. */
  private state: "head" | "frames" | "opaque";
  private head = "";
  /** The bytes of a frame header read so far (a header is 2 to 14 bytes). */
  private header = Buffer.alloc(0);
  /** Payload bytes left in the current frame. */
  private payloadLeft = 0;
  private closing: Buffer | undefined;
  private ended = false;

  /** `webSocket`: whether the client asked for a WebSocket (`Upgrade: websocket`); otherwise nothing is followed. */
  constructor(webSocket: boolean) {
    super();
    this.state = webSocket ? "head" : "opaque";
  }

  /** Whether the next byte starts a frame: a close frame can go in now. */
  private get atBoundary(): boolean {
    return this.state === "frames" && this.header.length === 0 && this.payloadLeft === 0;
  }

  /**
   * Ends the stream with a close frame after the model server's frame in progress; what the model server sends later
   * is dropped. Returns false, and does nothing, when this is not an open WebSocket (the caller then just closes it).
   */
  goAway(code = GOING_AWAY, reason = "server shutting down"): boolean {
    if (this.state !== "frames") return false;
    if (!this.ended) {
      this.closing = closeFrame(code, reason);
      if (this.atBoundary) this.sendClose();
    }
    return true;
  }

  private sendClose(): void {
    this.ended = true;
    this.push(this.closing);
    this.push(null);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.ended) return callback();
    let at = 0;
    if (this.state === "head") at = this.readHead(chunk);
    while (this.state === "frames" && at < chunk.length) {
      at = this.readFrame(chunk, at);
      if (this.closing && this.atBoundary) {
        this.push(chunk.subarray(0, at));
        this.sendClose();
        return callback();
      }
    }
    callback(null, chunk);
  }

  /** Reads the response head; returns where the frames start in this chunk (its length while the head goes on). */
  private readHead(chunk: Buffer): number {
    const before = this.head.length;
    this.head += chunk.toString("latin1");
    const end = this.head.indexOf("\r\n\r\n");
    if (end < 0) {
      if (this.head.length > MAX_HEAD) this.state = "opaque";
      return chunk.length;
    }
    this.state = /^HTTP\/1\.[01] 101 /.test(this.head) ? "frames" : "opaque";
    this.head = "";
    return end + 4 - before;
  }

  /** Reads from `at` up to the end of the current frame or of the chunk; returns where it stopped. */
  private readFrame(chunk: Buffer, at: number): number {
    if (this.payloadLeft > 0) {
      const n = Math.min(this.payloadLeft, chunk.length - at);
      this.payloadLeft -= n;
      return at + n;
    }
    while (at < chunk.length) {
      this.header = Buffer.concat([this.header, chunk.subarray(at, at + 1)]);
      at++;
      const size = headerSize(this.header);
      if (size !== undefined && this.header.length === size) {
        this.payloadLeft = payloadLength(this.header);
        this.header = Buffer.alloc(0);
        return at;
      }
    }
    return at;
  }
}

/** A frame header's size once its first two bytes are known. */
function headerSize(header: Buffer): number | undefined {
  if (header.length < 2) return undefined;
  const len7 = header[1] & 0x7f;
  return 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (header[1] & 0x80 ? 4 : 0);
}

function payloadLength(header: Buffer): number {
  const len7 = header[1] & 0x7f;
  if (len7 === 126) return header.readUInt16BE(2);
  if (len7 === 127) return Number(header.readBigUInt64BE(2));
  return len7;
}
