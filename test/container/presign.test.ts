import { spawn } from "node:child_process";
import { createHash, createHmac, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { SignatureV4 } from "@smithy/signature-v4";
import { bundleContainer } from "../../components/image/containerBundle";
import fc from "fast-check";
import S3rver from "s3rver";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { waitForAccess } from "../../container/fetcher";
import { objectUrl, parseS3Access, presignGetUrl, presignManifestUrls } from "../../container/presign";
import { r2Client } from "../../scripts/models-sync";
import { startForbiddenServer } from "../support/forbiddenServer";

const ROOT = path.resolve(__dirname, "../..");
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

/** node:crypto behind the hash interface @smithy/signature-v4 takes (with a secret, an HMAC). */
type Bytes = string | ArrayBuffer | ArrayBufferView;
const toBuffer = (d: Bytes) => (typeof d === "string" ? Buffer.from(d) : ArrayBuffer.isView(d) ? Buffer.from(d.buffer, d.byteOffset, d.byteLength) : Buffer.from(d));
class NodeSha256 {
  private readonly h;
  constructor(secret?: Bytes) {
    this.h = secret === undefined ? createHash("sha256") : createHmac("sha256", toBuffer(secret));
  }
  update(data: Bytes) {
    this.h.update(toBuffer(data));
  }
  async digest() {
    return new Uint8Array(this.h.digest());
  }
}

describe("presigned GET URLs", () => {
  test("match the worked example in AWS's SigV4 query-string documentation", () => {
    const url = presignGetUrl(
      "https://examplebucket.s3.amazonaws.com/test.txt",
      { accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", region: "us-east-1" },
      86400,
      new Date("2013-05-24T00:00:00Z"),
    );
    expect(url).toBe(
      "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request" +
        "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404",
    );
  });

  test("sign any object key as the AWS SDK's signer does (spaces, +, parentheses, non-ASCII)", async () => {
    const creds = { accessKeyId: "a1b2c3", secretAccessKey: "s3cr3t+/=" };
    const segment = fc.stringMatching(/^[A-Za-z0-9 ._+()!'*~&$@=;:,ü€-]{1,12}$/).filter((s) => s !== "." && s !== "..");
    await fc.assert(
      fc.asyncProperty(fc.array(segment, { minLength: 1, maxLength: 3 }), fc.integer({ min: 1, max: 604800 }), async (segments, expires) => {
        const key = segments.join("/");
        const now = new Date("2026-11-23T12:34:56Z");
        const url = new URL(presignGetUrl(objectUrl({ endpoint: "https://acct.r2.cloudflarestorage.com", bucket: "models" }, key), { ...creds, region: "auto" }, expires, now));
        // The reference: the SDK's SigV4 signer with an unsigned payload, host the only signed header.
        const h = "x-amz-content-sha256";
        const signer = new SignatureV4({ service: "s3", region: "auto", credentials: creds, sha256: NodeSha256, uriEscapePath: true, applyChecksum: false });
        const ref = await signer.presign(
          { method: "GET", protocol: "https:", hostname: url.hostname, path: `/models/${key}`, query: {}, headers: { host: url.host, [h]: "UNSIGNED-PAYLOAD" } },
          { expiresIn: expires, signingDate: now, unhoistableHeaders: new Set([h]), unsignableHeaders: new Set([h]) },
        );
        expect(Object.fromEntries(url.searchParams)).toEqual(ref.query);
        expect(decodeURIComponent(url.pathname)).toBe(`/models/${key}`);
      }),
      { numRuns: 60 },
    );
  });

  test("live at most 7 days, as SigV4 allows", () => {
    const creds = { accessKeyId: "a", secretAccessKey: "b" };
    expect(() => presignGetUrl("https://h/b/k", creds, 604801, new Date())).toThrow(/1\.\.604800 s \(7 days\), got 604801/);
    expect(() => presignGetUrl("https://h/b/k", creds, 0, new Date())).toThrow(/got 0/);
  });

  test("live exactly 7 days (604800 s), the most SigV4 allows, or as little as 1 s; whole seconds only", () => {
    const creds = { accessKeyId: "a", secretAccessKey: "b" };
    const expires = (s: number) => new URL(presignGetUrl("https://h/b/k", creds, s, new Date("2026-11-29T00:00:00Z"))).searchParams.get("X-Amz-Expires");
    expect(expires(604800)).toBe("604800");
    expect(expires(1)).toBe("1");
    expect(() => expires(3600.5)).toThrow(/got 3600\.5/);
  });

  test("sign for R2's region 'auto' unless the access file names one", () => {
    const credential = (region?: string) => new URL(presignGetUrl("https://h/b/k", { accessKeyId: "a", secretAccessKey: "b", region }, 60, new Date("2026-11-29T00:00:00Z"))).searchParams.get("X-Amz-Credential");
    expect(credential()).toBe("a/20261129/auto/s3/aws4_request");
    expect(credential("weur")).toBe("a/20261129/weur/s3/aws4_request");
  });

  test("address each object path-style, its key's slashes kept and every other reserved byte percent-encoded in capitals", () => {
    const access = { endpoint: "https://acct.r2.cloudflarestorage.com", bucket: "models" };
    expect(objectUrl(access, "unet/flux dev\tü.safetensors")).toBe("https://acct.r2.cloudflarestorage.com/models/unet/flux%20dev%09%C3%BC.safetensors");
  });

  test("the fetcher's URL map: one presigned GET per manifest path, keyed by that path", () => {
    const access = { endpoint: "https://acct.r2.cloudflarestorage.com", bucket: "models", accessKeyId: "a", secretAccessKey: "b" };
    const now = new Date("2026-11-29T00:00:00Z");
    const urls = presignManifestUrls(["unet/a.safetensors", "vae/b.safetensors"], access, 3600, now);
    expect(Object.keys(urls)).toEqual(["unet/a.safetensors", "vae/b.safetensors"]);
    expect(urls["vae/b.safetensors"]).toBe(presignGetUrl(objectUrl(access, "vae/b.safetensors"), access, 3600, now));
  });

  test("a bad access file names the field to fix", () => {
    const ok = { endpoint: "https://a.r2.cloudflarestorage.com/", bucket: "m", accessKeyId: "k", secretAccessKey: "s" };
    expect(parseS3Access(JSON.stringify(ok), "f").endpoint).toBe("https://a.r2.cloudflarestorage.com");
    expect(() => parseS3Access("{", "f")).toThrow(/^f: not valid JSON/);
    expect(() => parseS3Access(JSON.stringify({ ...ok, secretAccessKey: "" }), "f")).toThrow(/^f: "secretAccessKey" must be a non-empty string$/);
    expect(() => parseS3Access(JSON.stringify({ ...ok, endpoint: "a.r2.cloudflarestorage.com" }), "f")).toThrow(/"endpoint" must be an http\(s\) origin/);
    expect(() => parseS3Access("[]", "f")).toThrow(/must be a JSON object/);
    expect(() => parseS3Access("null", "f")).toThrow(/must be a JSON object/);
    expect(() => parseS3Access("5", "f")).toThrow(/must be a JSON object/);
    expect(() => parseS3Access(JSON.stringify({ ...ok, bucket: "  " }), "f")).toThrow(/^f: "bucket" must be a non-empty string$/);
    expect(() => parseS3Access(JSON.stringify({ ...ok, accessKeyId: 5 }), "f")).toThrow(/^f: "accessKeyId" must be a non-empty string$/);
    // An origin, nothing before it, no path after it; plain http for a local S3 stand-in.
    for (const endpoint of ["see https://a.r2.cloudflarestorage.com", "https://a.r2.cloudflarestorage.com/models", "https://a.r2.cloudflarestorage.com//"]) {
      expect(() => parseS3Access(JSON.stringify({ ...ok, endpoint }), "f")).toThrow(/"endpoint" must be an http\(s\) origin/);
    }
    expect(parseS3Access(JSON.stringify({ ...ok, endpoint: "http://127.0.0.1:9000" }), "f").endpoint).toBe("http://127.0.0.1:9000");
    expect(() => parseS3Access(JSON.stringify({ ...ok, region: "" }), "f")).toThrow(/^f: "region" must be a non-empty string when given$/);
    expect(() => parseS3Access(JSON.stringify({ ...ok, region: 5 }), "f")).toThrow(/"region" must be a non-empty string/);
    expect(parseS3Access(JSON.stringify({ ...ok, region: "weur" }), "f").region).toBe("weur");
  });
});

describe("waiting out a new credential", () => {
  /** Answers 403 to the first `forbidden` requests, then 206. */
  const server = async (forbidden: number) => {
    const s = await startForbiddenServer(forbidden, { status: 206, body: "x" });
    return { ...s, url: `${s.url}/b/k` };
  };

  test("a 403 that clears within the wait is waited out, and said so", async () => {
    const s = await server(2);
    const lines: string[] = [];
    await waitForAccess(s.url, 5000, (l) => lines.push(l), 10);
    expect(s.seen()).toBe(3);
    expect(lines[0]).toMatch(/HTTP 403 from the bucket; a new credential can take a minute to work, waiting/);
    await s.close();
  });

  test("a 403 that lasts past the wait fails, blaming the credential", async () => {
    const s = await server(1000);
    await expect(waitForAccess(s.url, 50, () => undefined, 10)).rejects.toThrow(/HTTP 403 from the bucket for 0 s: the read credential is wrong or lacks read access/);
    await s.close();
  });
});

describe("warmstart-fetch --s3-access against a local S3 server", () => {
  const BUCKET = "models";
  const FILES: Record<string, Buffer> = { "unet/big model.safetensors": randomBytes(5 * 1024 * 1024 + 3), "vae/ae+1.safetensors": randomBytes(70_000) };
  let s3: S3rver;
  let endpoint: string;
  /** In front of s3rver, to see what the fetcher asks for: [path, range header]. */
  let proxy: http.Server;
  const asked: [string, string | undefined][] = [];
  const bundle = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "warmstart-presign-")), "fetcher.js");

  beforeAll(async () => {
    await bundleContainer(ROOT, path.dirname(bundle), { fetcher: "container/fetcher.ts" }); // the image's recipe
    s3 = new S3rver({ port: 0, address: "127.0.0.1", silent: true, directory: fs.mkdtempSync(path.join(os.tmpdir(), "s3rver-")), configureBuckets: [{ name: BUCKET, configs: [] }] });
    const s3Port = ((await s3.run()) as { port: number }).port;
    const client = r2Client(`http://127.0.0.1:${s3Port}`, "S3RVER", "S3RVER");
    proxy = http.createServer((req, res) => {
      asked.push([decodeURIComponent(req.url!.split("?")[0]), req.headers.range]);
      const up = http.request({ host: "127.0.0.1", port: s3Port, path: req.url, method: req.method, headers: req.headers, agent: false }, (r) => {
        res.writeHead(r.statusCode!, r.headers);
        r.pipe(res);
      });
      // The fetcher drops connections it is done with; drop the upstream one too, or s3rver never closes.
      res.on("close", () => up.destroy());
      req.pipe(up);
    });
    await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
    endpoint = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    for (const [key, body] of Object.entries(FILES)) await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
  });
  afterAll(async () => {
    proxy.closeAllConnections();
    await new Promise((r) => proxy.close(r));
    await s3.close();
  });

  const run = (args: string[]) =>
    new Promise<{ status: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [bundle, ...args], { stdio: ["ignore", "ignore", "pipe"] });
      let stderr = "";
      child.stderr.on("data", (d) => (stderr += d));
      child.on("exit", (status) => resolve({ status, stderr }));
    });
  const setup = (access: object) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "warmstart-s3fetch-"));
    fs.writeFileSync(path.join(dir, "models.json"), JSON.stringify({ files: Object.entries(FILES).map(([p, b]) => ({ path: p, size: b.length, sha256: sha(b) })) }));
    fs.writeFileSync(path.join(dir, "access.json"), JSON.stringify(access));
    return dir;
  };

  test("presigns a GET per file and fetches it in ranged requests, verified", async () => {
    const dir = setup({ endpoint, bucket: BUCKET, accessKeyId: "S3RVER", secretAccessKey: "S3RVER" });
    const r = await run(["--manifest", path.join(dir, "models.json"), "--s3-access", path.join(dir, "access.json"), "--out", path.join(dir, "out"), "--chunk-mib", "1", "--progress", "none"]);
    expect(r.status, r.stderr).toBe(0);
    for (const [p, b] of Object.entries(FILES)) expect(sha(fs.readFileSync(path.join(dir, "out", p))), p).toBe(sha(b));
    // Path-style object URLs, and the 5 MiB file in more than one ranged request.
    const big = asked.filter(([p]) => p === "/models/unet/big model.safetensors");
    expect(big.filter(([, range]) => range !== undefined && range !== "bytes=0-0").length).toBeGreaterThan(1);
  });

  test("an unknown key id fails after the wait, exit 1, with no file left at its final path", async () => {
    const dir = setup({ endpoint, bucket: BUCKET, accessKeyId: "NOT-A-KEY", secretAccessKey: "x" });
    const r = await run(["--manifest", path.join(dir, "models.json"), "--s3-access", path.join(dir, "access.json"), "--out", path.join(dir, "out"), "--access-wait", "0"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/the read credential is wrong or lacks read access/);
    expect(fs.existsSync(path.join(dir, "out", "vae/ae+1.safetensors"))).toBe(false);
  });

  test("a malformed access file is a usage error naming the field", async () => {
    const dir = setup({ endpoint, bucket: BUCKET, accessKeyId: "S3RVER" });
    const r = await run(["--manifest", path.join(dir, "models.json"), "--s3-access", path.join(dir, "access.json"), "--out", path.join(dir, "out")]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/access\.json: "secretAccessKey" must be a non-empty string/);
  });
});
