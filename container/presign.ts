/**
 * Presigned S3 GET URLs (AWS Signature Version 4, query-string form), for reading the weights from a private R2
 * bucket with a read-only credential. A presigned URL carries its own authorization, so every ranged GET of the
 * fetcher is a plain HTTP request (Range works as usual) and no credential travels with the requests themselves.
 * Pure; node:crypto only, so it bundles into the fetcher without the AWS SDK.
 */
import { createHash, createHmac } from "node:crypto";

/**
 * A bucket's S3 credentials: what the build reads with (a BuildKit secret mount holds them as JSON), and what
 * models:sync writes with (the stack's `modelsSyncAccess`).
 */
export interface S3Access {
  /** `https://<account>.r2.cloudflarestorage.com`. */
  readonly endpoint: string;
  readonly bucket: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** SigV4 region; R2 takes `auto`. */
  readonly region?: string;
}

export class S3AccessError extends Error {}

/** Parses and checks the access JSON; the error names the field that is wrong. */
export function parseS3Access(text: string, where: string): S3Access {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    // JSON.parse quotes the text around the error, and this text holds a secret key: the rule only.
    throw new S3AccessError(`${where}: not valid JSON; expected an object with endpoint, bucket, accessKeyId and secretAccessKey`);
  }
  if (!doc || typeof doc !== "object" || Array.isArray(doc)) throw new S3AccessError(`${where}: must be a JSON object with endpoint, bucket, accessKeyId and secretAccessKey`);
  const o = doc as Record<string, unknown>;
  for (const k of ["endpoint", "bucket", "accessKeyId", "secretAccessKey"]) {
    if (typeof o[k] !== "string" || (o[k] as string).trim() === "") throw new S3AccessError(`${where}: "${k}" must be a non-empty string`);
  }
  if (!/^https?:\/\/[^\s/]+\/?$/.test(o.endpoint as string)) throw new S3AccessError(`${where}: "endpoint" must be an http(s) origin such as https://<account>.r2.cloudflarestorage.com, got "${o.endpoint}"`);
  if (o.region !== undefined && (typeof o.region !== "string" || o.region === "")) throw new S3AccessError(`${where}: "region" must be a non-empty string when given`);
  return {
    // Stryker disable next-line Regex: the check above lets one trailing slash at most through, so /\/$/ strips the same.
    endpoint: (o.endpoint as string).replace(/\/+$/, ""),
    bucket: o.bucket as string,
    accessKeyId: o.accessKeyId as string,
    secretAccessKey: o.secretAccessKey as string,
    region: o.region as string | undefined,
  };
}

/** SigV4 caps a presigned URL's life at 7 days. */
export const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;

/** RFC 3986 encoding as SigV4 wants it: everything but unreserved characters, and '/' kept in paths. */
function uriEncode(s: string, keepSlash: boolean): string {
  let out = "";
  // Stryker disable next-line StringLiteral: Node takes an empty encoding name for its default, utf8 (the same below).
  for (const byte of Buffer.from(s, "utf8")) {
    const c = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-._~]/.test(c) || (keepSlash && c === "/")) out += c;
    else out += `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

// Stryker disable next-line StringLiteral: an empty encoding name is utf8 to Node.
const sha256Hex = (s: string) => createHash("sha256").update(s, "utf8").digest("hex");
// Stryker disable next-line StringLiteral: an empty encoding name is utf8 to Node.
const hmac = (key: Buffer | string, s: string) => createHmac("sha256", key).update(s, "utf8").digest();

/** `20130524T000000Z`. */
function amzDate(now: Date): string {
  return now.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
}

/**
 * A presigned GET for `objectUrl` (scheme, host and path; the path is the bucket and key for path-style R2
 * addressing). Signs the host header only and an unsigned payload, as S3 presigned GETs do.
 */
export function presignGetUrl(objectUrl: string, access: Pick<S3Access, "accessKeyId" | "secretAccessKey" | "region">, expiresSeconds: number, now: Date): string {
  if (!Number.isInteger(expiresSeconds) || expiresSeconds < 1 || expiresSeconds > MAX_PRESIGN_SECONDS) {
    throw new S3AccessError(`presigned URLs live 1..${MAX_PRESIGN_SECONDS} s (7 days), got ${expiresSeconds}`);
  }
  const url = new URL(objectUrl);
  const region = access.region ?? "auto";
  const date = amzDate(now);
  const scope = `${date.slice(0, 8)}/${region}/s3/aws4_request`;
  const query: [string, string][] = [
    ["X-Amz-Algorithm", "AWS4-HMAC-SHA256"],
    ["X-Amz-Credential", `${access.accessKeyId}/${scope}`],
    ["X-Amz-Date", date],
    ["X-Amz-Expires", String(expiresSeconds)],
    ["X-Amz-SignedHeaders", "host"],
  ];
  // Stryker disable next-line MethodExpression,BooleanLiteral: the list above is written in sorted order, and no name in it holds a '/' (sort() and the flag keep a new parameter right).
  const canonicalQuery = query.map(([k, v]) => `${uriEncode(k, false)}=${uriEncode(v, false)}`).sort().join("&");
  // URL has already percent-encoded what needs it; decode first so nothing is encoded twice.
  const canonicalPath = uriEncode(decodeURIComponent(url.pathname), true);
  const canonicalRequest = ["GET", canonicalPath, canonicalQuery, `host:${url.host}\n`, "host", "UNSIGNED-PAYLOAD"].join("\n");
  const stringToSign = ["AWS4-HMAC-SHA256", date, scope, sha256Hex(canonicalRequest)].join("\n");
  let key = hmac(`AWS4${access.secretAccessKey}`, date.slice(0, 8));
  for (const part of [region, "s3", "aws4_request"]) key = hmac(key, part);
  // Stryker disable next-line StringLiteral: an empty encoding name is utf8 to Node.
  const signature = createHmac("sha256", key).update(stringToSign, "utf8").digest("hex");
  return `${url.protocol}//${url.host}${canonicalPath}?${canonicalQuery}&X-Amz-Signature=${signature}`;
}

/** Path-style object URL in the bucket: `<endpoint>/<bucket>/<key>` (R2 serves path style on its S3 endpoint). */
export function objectUrl(access: Pick<S3Access, "endpoint" | "bucket">, key: string): string {
  // Stryker disable next-line BooleanLiteral: a bucket name holds no '/' (S3 and R2 naming rules), so keeping one changes nothing.
  return `${access.endpoint}/${uriEncode(access.bucket, false)}/${uriEncode(key, true)}`;
}

/** A presigned GET for every manifest path, keyed by path (the fetcher's URL map). */
export function presignManifestUrls(paths: readonly string[], access: S3Access, expiresSeconds: number, now: Date): Record<string, string> {
  return Object.fromEntries(paths.map((p) => [p, presignGetUrl(objectUrl(access, p), access, expiresSeconds, now)]));
}
