/** A loopback server that answers 403 to its first `forbidden` requests, then `then` (a credential starting to work). */
import * as http from "node:http";
import type { AddressInfo } from "node:net";

export interface ForbiddenServer {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** Requests answered so far. */
  seen(): number;
  close(): Promise<void>;
}

export async function startForbiddenServer(forbidden: number, then: { status: number; body?: string }): Promise<ForbiddenServer> {
  let seen = 0;
  const server = http.createServer((_req, res) => {
    seen++;
    if (seen <= forbidden) res.writeHead(403).end();
    else res.writeHead(then.status).end(then.body ?? "");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen: () => seen,
    close: () => new Promise((r) => server.close(() => r())),
  };
}
