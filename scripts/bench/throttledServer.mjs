// A loopback file server that caps each TCP connection with a token bucket (small burst), the way a long network
// path to a CDN behaves, unlike nginx's limit_rate, which lets each request send about a second unthrottled.
// usage: node throttledServer.mjs ROOT PORT BYTES_PER_SECOND
import * as fs from "node:fs";
import * as http from "node:http";
import * as path from "node:path";

const [root, port, rate] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
const BURST = 256 * 1024;

const server = http.createServer(async (req, res) => {
  const file = path.join(root, decodeURIComponent(new URL(req.url, "http://x").pathname));
  let st;
  try {
    st = fs.statSync(file);
  } catch {
    res.writeHead(404).end();
    return;
  }
  let start = 0;
  let end = st.size - 1;
  const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? "");
  if (m) {
    start = Number(m[1]);
    end = m[2] ? Math.min(Number(m[2]), st.size - 1) : st.size - 1;
    res.writeHead(206, { "content-length": end - start + 1, "content-range": `bytes ${start}-${end}/${st.size}`, "accept-ranges": "bytes" });
  } else {
    res.writeHead(200, { "content-length": st.size, "accept-ranges": "bytes" });
  }
  if (req.method === "HEAD") return res.end();
  // The bucket belongs to the connection, so keep-alive requests share it.
  const sock = req.socket;
  sock.bucket ??= { tokens: BURST, at: Date.now() };
  const b = sock.bucket;
  const fh = await fs.promises.open(file, "r");
  try {
    for (let pos = start; pos <= end && !res.destroyed; ) {
      const now = Date.now();
      b.tokens = Math.min(BURST, b.tokens + ((now - b.at) * rate) / 1000);
      b.at = now;
      if (b.tokens < 64 * 1024) {
        await new Promise((r) => setTimeout(r, Math.ceil(((64 * 1024 - b.tokens) * 1000) / rate)));
        continue;
      }
      const n = Math.min(Math.floor(b.tokens), end + 1 - pos);
      // A fresh buffer each time: res.write may still hold the previous one.
      const buf = Buffer.allocUnsafe(n);
      const { bytesRead } = await fh.read(buf, 0, n, pos);
      b.tokens -= bytesRead;
      pos += bytesRead;
      if (!res.write(buf.subarray(0, bytesRead))) await new Promise((r) => res.once("drain", r));
    }
    res.end();
  } finally {
    await fh.close();
  }
});
server.listen(port, "127.0.0.1");
