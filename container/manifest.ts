/**
 * The models manifest (`container/models.json`): which weight files go into the image, where they came from,
 * and the size and sha256 the fetcher verifies. Pure: used by the stack (sizes, build trigger) and the fetcher.
 */
import { posix } from "node:path";

export interface ManifestFile {
  /** Path under the models directory, in ComfyUI's layout, e.g. `unet/flux1-schnell-fp8.safetensors`. */
  readonly path: string;
  /** Bytes; missing only until `models:sync` has filled it in. */
  readonly size: number | undefined;
  /** Lowercase hex; missing only until `models:sync` has filled it in. */
  readonly sha256: string | undefined;
  /** The https URL the file was uploaded to the bucket from. */
  readonly source: string | undefined;
}

export interface Manifest {
  readonly files: readonly ManifestFile[];
}

export class ManifestError extends Error {
  constructor(
    readonly file: string,
    readonly problems: readonly string[],
  ) {
    super(`${file}: invalid models manifest:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  }
}

const SHA256_RE = /^[0-9a-f]{64}$/;

/**
 * Validates a parsed manifest; every problem is reported, each naming its entry by position. No message quotes a value
 * from the file: the path it was read from is configuration, and what is refused there may not be a manifest at all.
 */
export function validateManifest(data: unknown, file: string): Manifest {
  const problems: string[] = [];
  if (typeof data !== "object" || data === null || !Array.isArray((data as { files?: unknown }).files)) {
    throw new ManifestError(file, ['expected an object with a "files" array, e.g. {"files": [{"path": "unet/x.safetensors", ...}]}']);
  }
  const seen = new Map<string, number>();
  const files: ManifestFile[] = [];
  (data as { files: unknown[] }).files.forEach((entry, i) => {
    const where = `files[${i}]`;
    if (typeof entry !== "object" || entry === null) {
      problems.push(`${where}: expected an object with path, size, sha256 and source`);
      return;
    }
    const e = entry as Record<string, unknown>;
    const path = e.path;
    if (typeof path !== "string" || path === "") {
      problems.push(`${where}: "path" must be a non-empty string`);
    } else if (path.startsWith("/") || path.includes("\\") || /^[a-z]:/i.test(path)) {
      problems.push(`${where}: "path" must be relative to the models directory, with "/" separators, e.g. "unet/flux1-schnell-fp8.safetensors"`);
    } else if (path.split("/").some((seg) => seg === ".." || seg === "." || seg === "") || posix.normalize(path) !== path) {
      problems.push(`${where}: "path" must not contain "..", "." or empty segments`);
    } else if (seen.has(path)) {
      problems.push(`${where}: the same "path" as files[${seen.get(path)}]; each file may appear once`);
    } else {
      seen.set(path, i);
    }
    if (e.size !== undefined && !(typeof e.size === "number" && Number.isSafeInteger(e.size) && e.size > 0)) {
      problems.push(`${where}: "size" must be a positive whole number of bytes, e.g. 17246524772`);
    }
    if (e.sha256 !== undefined && !(typeof e.sha256 === "string" && SHA256_RE.test(e.sha256))) {
      problems.push(`${where}: "sha256" must be 64 lowercase hex digits, as sha256sum prints them`);
    }
    if (e.source !== undefined && !(typeof e.source === "string" && /^https?:\/\/\S+$/.test(e.source))) {
      problems.push(`${where}: "source" must be an http(s) URL, e.g. "https://huggingface.co/<repo>/resolve/main/<file>"`);
    }
    if (e.source === undefined && (e.size === undefined || e.sha256 === undefined)) {
      problems.push(`${where}: an entry without "source" must have "size" and "sha256"`);
    }
    files.push({
      path: String(path),
      size: e.size as number | undefined,
      sha256: e.sha256 as string | undefined,
      source: e.source as string | undefined,
    });
  });
  if (problems.length > 0) throw new ManifestError(file, problems);
  return { files };
}

export function parseManifest(text: string, file: string): Manifest {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    // V8's message quotes the text around the error ("root:x:0:0"...): only the position is kept.
    const at = /at position (\d+)/.exec((err as Error).message);
    const where = at ? ` at ${lineColumn(text, Number(at[1]))}` : "";
    throw new ManifestError(file, [`not valid JSON${where}; a manifest looks like {"files": [{"path": "unet/x.safetensors", "size": 1234, "sha256": "<64 hex>"}]}`]);
  }
  return validateManifest(data, file);
}

function lineColumn(text: string, offset: number): string {
  const before = text.slice(0, offset).split("\n");
  return `line ${before.length}, column ${before[before.length - 1].length + 1}`;
}

/** Entries that `models:sync` has not yet filled in; the fetcher refuses them. */
export function unsyncedFiles(manifest: Manifest): ManifestFile[] {
  return manifest.files.filter((f) => f.size === undefined || f.sha256 === undefined);
}

/** Total bytes of the entries whose size is known. */
export function manifestBytes(manifest: Manifest): number {
  return manifest.files.reduce((sum, f) => sum + (f.size ?? 0), 0);
}
