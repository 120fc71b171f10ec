/**
 * The instant the stack is deployed at. Values that depend on the time of day (the service's min instances in
 * force right now) read it here, so that tests and `npm run synth -- --now ISO` can pin it.
 */
export const NOW_ENV = "WARMSTART_NOW";

export function deployTime(env: NodeJS.ProcessEnv = process.env): Date {
  const pinned = env[NOW_ENV];
  if (pinned === undefined || pinned === "") return new Date();
  const at = new Date(pinned);
  if (Number.isNaN(at.getTime()) || !/^\d{4}-\d{2}-\d{2}T/.test(pinned)) {
    throw new Error(`${NOW_ENV}: must be an ISO 8601 instant such as 2026-11-23T09:00:00Z, got ${JSON.stringify(pinned)}`);
  }
  return at;
}
