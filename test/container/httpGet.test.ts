import * as net from "node:net";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, test } from "vitest";
import { HttpConnection, HttpError, type ResponseHead } from "../../container/httpGet";

/** A loopback server that answers each request (its text, and its number on that connection) as the test says. */
async function rawServer(answer: (socket: net.Socket, request: string, nth: number) => void) {
  const sockets: net.Socket[] = [];
  const server = net.createServer((socket) => {
    sockets.push(socket);
    let pending = "";
    let nth = 0;
    socket.on("data", (d) => {
      pending += d.toString("latin1");
      for (let i = pending.indexOf("\r\n\r\n"); i >= 0; i = pending.indexOf("\r\n\r\n")) {
        answer(socket, pending.slice(0, i), nth++);
        pending = pending.slice(i + 4);
      }
    });
    socket.on("error", () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/f`),
    connections: () => sockets.length,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => server.close(r));
    },
  };
}
let open: { close(): Promise<unknown> } | undefined;
afterEach(async () => {
  await open?.close();
  open = undefined;
});
const serve = async (answer: Parameters<typeof rawServer>[0]) => (open = await rawServer(answer));

const ok = (body: string, extra = "") => `HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\n${extra}\r\n${body}`;
/** GETs and collects the body. */
async function get(conn: HttpConnection, url: URL, headers: Record<string, string> = {}) {
  let head: ResponseHead | undefined;
  let body = "";
  await conn.get(url, headers, (h) => {
    head = h;
    return (buf, a, b) => (body += buf.toString("latin1", a, b));
  });
  return { head: head!, body };
}

describe("HttpConnection", () => {
  test("serves consecutive requests over one keep-alive connection", async () => {
    const s = await serve((socket, _req, nth) => socket.write(ok(`body ${nth}`)));
    const conn = new HttpConnection(5000);
    for (let i = 0; i < 3; i++) expect((await get(conn, s.url)).body).toBe(`body ${i}`);
    expect(s.connections()).toBe(1);
    conn.close();
  });

  test("a head and body cut into many small writes arrive whole and in order", async () => {
    const body = "0123456789".repeat(100);
    const s = await serve((socket) => {
      const all = ok(body, "x-extra: yes\r\n");
      let i = 0;
      const next = () => {
        if (i >= all.length) return;
        socket.write(all.slice(i, (i += 7)));
        setTimeout(next, 0);
      };
      next();
    });
    const conn = new HttpConnection(5000);
    const r = await get(conn, s.url);
    expect(r.head.status).toBe(200);
    expect(r.head.headers["x-extra"]).toBe("yes");
    expect(r.body).toBe(body);
    conn.close();
  });

  test("a response without Content-Length reaches onHead without one; refusing it closes the connection", async () => {
    let answered = 0;
    const s = await serve((socket) => socket.write(answered++ === 0 ? "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n" : ok("fine")));
    const conn = new HttpConnection(5000);
    await expect(
      conn.get(s.url, {}, (h) => {
        expect(h.contentLength).toBeUndefined();
        throw new Error("no thanks");
      }),
    ).rejects.toThrow("no thanks");
    expect((await get(conn, s.url)).body).toBe("fine");
    expect(s.connections()).toBe(2);
    conn.close();
  });

  test("Connection: close is honoured: the next request opens a new connection", async () => {
    const s = await serve((socket) => socket.end(ok("once", "connection: close\r\n")));
    const conn = new HttpConnection(5000);
    expect((await get(conn, s.url)).body).toBe("once");
    expect((await get(conn, s.url)).body).toBe("once");
    expect(s.connections()).toBe(2);
    conn.close();
  });

  test("a kept-alive connection the server dropped meanwhile: the request goes out again on a new one", async () => {
    // The server answers the first request on a connection and drops the connection at the second.
    const s = await serve((socket, _req, nth) => (nth === 0 ? socket.write(ok("first")) : socket.destroy()));
    const conn = new HttpConnection(5000);
    expect((await get(conn, s.url)).body).toBe("first");
    expect((await get(conn, s.url)).body).toBe("first");
    expect(s.connections()).toBe(2);
    conn.close();
  });

  test("silence longer than the timeout fails the request", async () => {
    const s = await serve((socket) => socket.write("HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nhalf"));
    const conn = new HttpConnection(100);
    await expect(get(conn, s.url)).rejects.toThrow(new HttpError("no answer for 0.1 s"));
    conn.close();
  });

  test("bytes after a complete body: the connection is not used again", async () => {
    const s = await serve((socket) => socket.write(ok("body") + "garbage"));
    const conn = new HttpConnection(5000);
    expect((await get(conn, s.url)).body).toBe("body");
    expect((await get(conn, s.url)).body).toBe("body");
    expect(s.connections()).toBe(2);
    conn.close();
  });

  test("a header value with a line break is refused without showing the value", async () => {
    const s = await serve((socket) => socket.write(ok("x")));
    const conn = new HttpConnection(5000);
    await expect(get(conn, s.url, { "x-key": "s3cr3t\r\nx-injected: 1" })).rejects.toThrow(/^header "x-key" has a line break or NUL in its value$/);
    expect(s.connections()).toBe(0);
    conn.close();
  });
});
