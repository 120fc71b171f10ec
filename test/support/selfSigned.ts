/** A throwaway certificate for 127.0.0.1, made with openssl, for https tests on loopback. */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export interface SelfSigned {
  readonly key: string;
  readonly cert: string;
  /** The certificate's file, e.g. for NODE_EXTRA_CA_CERTS. */
  readonly certFile: string;
}

/** The certificate, or why there is none (no openssl). */
export function selfSigned(): SelfSigned | string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "warmstart-tls-"));
  const keyFile = path.join(dir, "key.pem");
  const certFile = path.join(dir, "cert.pem");
  const r = spawnSync(
    "openssl",
    ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", keyFile, "-out", certFile, "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
    { encoding: "utf8" },
  );
  if (r.status !== 0) return `openssl could not make a certificate (${(r.stderr || r.error?.message || "").trim()})`;
  return { key: fs.readFileSync(keyFile, "utf8"), cert: fs.readFileSync(certFile, "utf8"), certFile };
}
