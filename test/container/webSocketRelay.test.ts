import * as fc from "fast-check";
import { describe, expect, test } from "vitest";
import { closeFrame, GOING_AWAY, WebSocketRelay } from "../../container/webSocketRelay";

const HEAD = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";

/** A server frame (unmasked unless a mask is given) with a payload of `len` bytes. */
function frame(opcode: number, len: number, fin = true, mask?: Buffer): Buffer {
  const ext = len < 126 ? Buffer.alloc(0) : len < 65536 ? Buffer.alloc(2) : Buffer.alloc(8);
  if (ext.length === 2) ext.writeUInt16BE(len);
  if (ext.length === 8) ext.writeBigUInt64BE(BigInt(len));
  const b1 = (mask ? 0x80 : 0) | (len < 126 ? len : len < 65536 ? 126 : 127);
  return Buffer.concat([Buffer.from([(fin ? 0x80 : 0) | opcode, b1]), ext, mask ?? Buffer.alloc(0), Buffer.alloc(len, 0x61)]);
}

/** Writes the chunks, calling goAway() after the first `goAwayAfter` of them; resolves with what came out. */
async function relay(chunks: Buffer[], goAwayAfter: number, webSocket = true): Promise<{ out: Buffer; accepted: boolean | undefined }> {
  const r = new WebSocketRelay(webSocket);
  const out: Buffer[] = [];
  r.on("data", (d: Buffer) => out.push(d));
  const ended = new Promise((resolve) => r.on("end", resolve));
  let accepted: boolean | undefined;
  chunks.forEach((c, i) => {
    if (i === goAwayAfter) accepted = r.goAway();
    r.write(c);
  });
  if (goAwayAfter >= chunks.length) accepted = r.goAway();
  if (!accepted) r.end();
  await ended;
  return { out: Buffer.concat(out), accepted };
}

/** Splits a buffer at the given offsets. */
const split = (b: Buffer, cuts: number[]) => {
  const at = [...new Set([0, ...cuts.map((c) => c % (b.length + 1)), b.length])].sort((x, y) => x - y);
  return at.slice(1).map((end, i) => b.subarray(at[i], end));
};

describe("WebSocketRelay", () => {
  test("ends with a 1001 close frame right after the model server's frame in progress, however the bytes arrive", async () => {
    const frameArb = fc.oneof(
      fc.record({ opcode: fc.constantFrom(0x1, 0x2, 0x0, 0x9, 0xa), len: fc.integer({ min: 0, max: 300 }), fin: fc.boolean() }),
      fc.record({ opcode: fc.constant(0x2), len: fc.constantFrom(125, 126, 65535, 65536, 70000), fin: fc.constant(true) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(frameArb, { minLength: 1, maxLength: 6 }), fc.array(fc.nat(), { maxLength: 8 }), fc.nat(), async (frames, cuts, when) => {
        const bodies = frames.map((f) => frame(f.opcode, f.len, f.fin));
        const input = Buffer.concat([Buffer.from(HEAD), ...bodies]);
        const boundaries = bodies.reduce((b, f) => [...b, b[b.length - 1] + f.length], [HEAD.length]);
        // goAway() once the head has passed: after the first chunk that ends at or after it.
        const chunks = split(input, [HEAD.length + (cuts[0] ?? 0), ...cuts.slice(1)]);
        const ends = chunks.map((_, i) => chunks.slice(0, i + 1).reduce((n, c) => n + c.length, 0));
        const first = ends.findIndex((e) => e >= HEAD.length) + 1;
        const after = first + (when % (chunks.length - first + 1));
        const seen = ends[after - 1];
        const cut = boundaries.find((b) => b >= seen)!;
        const { out, accepted } = await relay(chunks, after);
        expect(accepted).toBe(true);
        expect(out.equals(Buffer.concat([input.subarray(0, cut), closeFrame(GOING_AWAY, "server shutting down")]))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  test("follows masked frames and 64-bit lengths", async () => {
    const bodies = [frame(0x1, 5, true, Buffer.from([1, 2, 3, 4])), frame(0x2, 70_000)];
    const input = Buffer.concat([Buffer.from(HEAD), ...bodies]);
    const mid = HEAD.length + bodies[0].length + 10;
    const { out } = await relay([input.subarray(0, mid), input.subarray(mid)], 1);
    expect(out.subarray(0, input.length).equals(input)).toBe(true);
    expect(out.subarray(input.length).readUInt16BE(2)).toBe(1001);
  });

  test("the close frame holds the code and the reason", () => {
    const f = closeFrame(1001, "bye");
    expect([...f]).toEqual([0x88, 5, 0x03, 0xe9, ...Buffer.from("bye")]);
  });

  test("does not touch what is not an open WebSocket: a refused upgrade, a head still coming, another protocol", async () => {
    const refused = Buffer.from("HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n");
    expect(await relay([refused], 1)).toEqual({ out: refused, accepted: false });
    expect(await relay([Buffer.from(HEAD.slice(0, 20))], 1)).toEqual({ out: Buffer.from(HEAD.slice(0, 20)), accepted: false });
    const other = Buffer.concat([Buffer.from(HEAD), Buffer.from("raw bytes")]);
    expect(await relay([other], 1, false)).toEqual({ out: other, accepted: false });
  });
});
