/**
 * Waiting out a credential made moments ago: a new R2 token can take up to a minute to work, so a 403 then is not
 * yet a wrong credential. The fetcher (presigned reads) and models:sync (writes) both need it; each says how to
 * probe and what to tell the user. Pure control flow.
 */

/** How long a 403 is waited out by default. */
export const NEW_TOKEN_WAIT_SECONDS = 90;

export interface ForbiddenWait {
  /** Keep trying this long while the probe answers 403. */
  readonly maxWaitMs: number;
  readonly pollMs?: number;
  /** Told each time a 403 is waited out, with the seconds waited so far. */
  readonly onWait: (waitedSeconds: number) => void;
  /** What to throw when the wait runs out. */
  readonly giveUp: (waitedSeconds: number) => Error;
}

/**
 * Calls `probe` until it answers anything but 403 (undefined: it could not ask; the caller's own work will report
 * that), waiting `pollMs` between tries.
 */
export async function waitWhileForbidden(probe: () => Promise<number | undefined>, w: ForbiddenWait): Promise<void> {
  const started = Date.now();
  for (;;) {
    if ((await probe()) !== 403) return;
    const waited = Date.now() - started;
    if (waited >= w.maxWaitMs) throw w.giveUp(Math.round(waited / 1000));
    w.onWait(Math.round(waited / 1000));
    await new Promise((r) => setTimeout(r, Math.min(w.pollMs ?? 5000, w.maxWaitMs - waited)));
  }
}
