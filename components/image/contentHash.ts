/**
 * A content hash of what goes into the image, so the remote build re-runs only when one of those inputs changed.
 * Pure (node:fs and node:crypto only).
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

function listFiles(dir: string, prefix = ""): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(path.join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...listFiles(dir, rel));
    else if (entry.isFile()) out.push(rel);
  }
  return out.sort();
}

/**
 * What a Dockerfile copies from its context: the sources of every COPY or ADD without --from (stages copy from
 * stages), in order. Arguments such as `${MANIFEST}` stay as written.
 */
export function copiedPaths(dockerfile: string): string[] {
  const lines = dockerfile.replace(/\\\n/g, " ").split("\n");
  const out: string[] = [];
  for (const line of lines) {
    const m = /^\s*(COPY|ADD)\s+(.*)$/i.exec(line);
    if (!m) continue;
    const words = m[2].trim().split(/\s+/);
    if (words.some((w) => w.startsWith("--from"))) continue;
    out.push(...words.filter((w) => !w.startsWith("--")).slice(0, -1));
  }
  return out;
}

export interface ImageInputs {
  /** The build context directory (`container/`). */
  readonly contextDir: string;
  /** The manifest's path; hashed even when it lies outside the context. */
  readonly manifestPath: string;
  /**
   * The build takes the manifest from a models sync in the same `pulumi up`, not from the file: the file is left
   * out, and the caller hashes the synced manifest in with it.
   */
  readonly manifestFromSync?: boolean;
  readonly baseImage: string;
  /** The bundles the Dockerfile copies from dist/, as built now (`dist/<name>.js` → text): dist/ is made at build time. */
  readonly bundles?: Readonly<Record<string, string>>;
  /** Anything else that changes the image. */
  readonly extra?: readonly string[];
}

/**
 * `sha256:<hex>` over exactly what goes into the image: the Dockerfile, every file it copies from the context (the
 * bundles as built now), the manifest, the base image and the extras. A file in the context that the Dockerfile does
 * not copy, an example server's folder, a doc or a test changes nothing, so none of them rebuilds a 30 GB image.
 */
export function imageContentHash(inputs: ImageInputs): string {
  const h = createHash("sha256");
  const add = (label: string, data: string | Buffer) => {
    h.update(`${label}\0${Buffer.byteLength(data)}\0`);
    h.update(data);
  };
  const dockerfile = fs.readFileSync(path.join(inputs.contextDir, "Dockerfile"), "utf8");
  add("file:Dockerfile", dockerfile);
  for (const source of copiedPaths(dockerfile)) {
    // The manifest is staged as an argument (MANIFEST); it is hashed below, or comes from a sync.
    if (source.includes("$")) continue;
    const rel = source.replace(/^\.\//, "").replace(/\/$/, "");
    const bundle = inputs.bundles?.[rel];
    if (bundle !== undefined) {
      add(`file:${rel}`, bundle);
      continue;
    }
    const full = path.join(inputs.contextDir, rel);
    if (!fs.existsSync(full)) throw new Error(`the Dockerfile copies ${source}, which is not in ${inputs.contextDir}${rel.startsWith("dist/") ? " (and not a bundle)" : ""}`);
    if (fs.statSync(full).isDirectory()) for (const f of listFiles(full)) add(`file:${rel}/${f}`, fs.readFileSync(path.join(full, f)));
    else add(`file:${rel}`, fs.readFileSync(full));
  }
  if (!inputs.manifestFromSync) add("manifest", fs.readFileSync(path.resolve(inputs.manifestPath)));
  add("base", inputs.baseImage);
  for (const e of inputs.extra ?? []) add("extra", e);
  return `sha256:${h.digest("hex")}`;
}

/** `sha256:<hex>` over every file of a folder (path and bytes): a reference base image's build context. */
export function folderContentHash(dir: string): string {
  const h = createHash("sha256");
  for (const rel of listFiles(dir)) {
    const data = fs.readFileSync(path.join(dir, rel));
    h.update(`file:${rel}\0${data.length}\0`);
    h.update(data);
  }
  return `sha256:${h.digest("hex")}`;
}

/**
 * What a models sync acts on: each entry's path and source. Sizes and sha256 are left out because the sync itself
 * writes them, so recording them must not make the next `pulumi up` sync again.
 */
export function manifestSourcesHash(files: readonly { readonly path: string; readonly source?: string }[]): string {
  const h = createHash("sha256");
  for (const f of files) h.update(`${f.path}\0${f.source ?? ""}\n`);
  return `sha256:${h.digest("hex")}`;
}
