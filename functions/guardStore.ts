/**
 * Where the guard's state lives: one JSON object in the guard's bucket (`gs://<bucket>/guard-state.json`), written
 * only with a generation precondition so that two writers (a redelivered message, the deploy's reconcile step) can
 * never overwrite each other's change unseen.
 */
import type { GoogleApis } from "./googleApis";
import { INITIAL_STATE, parseGuardState, type GuardState } from "./guardState";

export interface StateLocation {
  readonly bucket: string;
  readonly object: string;
}

export function parseStateLocation(url: string): StateLocation {
  const m = /^gs:\/\/([a-z0-9][a-z0-9._-]{1,220})\/(.+)$/.exec(url);
  if (!m) throw new Error(`the guard's state location must be gs://BUCKET/OBJECT, got "${url}"`);
  return { bucket: m[1], object: m[2] };
}

export async function readState(api: GoogleApis, at: StateLocation): Promise<{ state: GuardState; generation: string }> {
  const found = await api.readObject(at.bucket, at.object);
  return found ? { state: parseGuardState(found.text), generation: found.generation } : { state: INITIAL_STATE, generation: "0" };
}

/**
 * Reads the state, applies `change`, and writes the result if it differs, retrying from a fresh read when another
 * writer got there first. Returns what `change` returned for the state that was finally written (or kept).
 */
export async function updateState<T extends { next: GuardState }>(api: GoogleApis, at: StateLocation, change: (s: GuardState) => T, attempts = 5): Promise<T> {
  for (let i = 0; i < attempts; i++) {
    const { state, generation } = await readState(api, at);
    const result = change(state);
    if (JSON.stringify(result.next) === JSON.stringify(state)) return result;
    if (await api.writeObject(at.bucket, at.object, JSON.stringify(result.next), generation)) return result;
  }
  throw new Error(`gs://${at.bucket}/${at.object}: changed by another writer ${attempts} times in a row; giving up so the message is delivered again`);
}
