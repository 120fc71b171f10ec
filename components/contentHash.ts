/**
 * A content hash of what goes into the image, so the remote build re-runs only when one of those inputs changed.
 * Pure (node:fs and node:crypto only).
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

/**
 * Files in the build context that are not inputs of their own: local test artefacts, and dist/, which is bundled
 * from container/*.ts (hashed here) and the bundled packages, whose versions ModelImage passes in `extra`.
 */
const IGNORED = [/^\.node-bin$/, /^dist\//, /(^|\/)node_modules\//, /(^|\/)\.DS_Store$/, /^bench\/out\//];

function listFiles(dir: string, prefix = ""): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(path.join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (IGNORED.some((re) => re.test(rel) || re.test(`${rel}/`))) continue;
    if (entry.isDirectory()) out.push(...listFiles(dir, rel));
    else if (entry.isFile()) out.push(rel);
  }
  return out.sort();
}

export interface ImageInputs {
  /** The build context directory (`container/`). */
  readonly contextDir: string;
  /** The manifest's path; hashed even when it lies outside the context. */
  readonly manifestPath: string;
  /**
   * The build takes the manifest from a models sync in the same `pulumi up`, not from the file: the file is left
   * out (also from the context), and the caller hashes the synced manifest in with it.
   */
  readonly manifestFromSync?: boolean;
  readonly baseImage: string;
  /** Anything else that changes the image (the versions of the bundled packages). */
  readonly extra?: readonly string[];
}

/** `sha256:<hex>` over every file's path and bytes, the manifest, the base image and the extras. */
export function imageContentHash(inputs: ImageInputs): string {
  const h = createHash("sha256");
  const add = (label: string, data: string | Buffer) => {
    h.update(`${label}\0${data.length}\0`);
    h.update(data);
  };
  const manifest = path.resolve(inputs.manifestPath);
  for (const rel of listFiles(inputs.contextDir)) {
    const file = path.join(inputs.contextDir, rel);
    if (inputs.manifestFromSync && path.resolve(file) === manifest) continue;
    add(`file:${rel}`, fs.readFileSync(file));
  }
  if (!inputs.manifestFromSync) add("manifest", fs.readFileSync(manifest));
  add("base", inputs.baseImage);
  for (const e of inputs.extra ?? []) add("extra", e);
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
