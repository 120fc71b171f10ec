/**
 * The token of whoever runs `pulumi up`, for the commands it runs (reconcile, the log-metric wait): the same identity
 * that creates the resources. GOOGLE_OAUTH_ACCESS_TOKEN (as the gcp provider reads it), else gcloud's.
 */
import { spawnSync } from "node:child_process";
import { CommandError } from "../container/commandError";

/** The deploying identity's token: GOOGLE_OAUTH_ACCESS_TOKEN, else gcloud's (asked once). */
export function deployerToken(env: NodeJS.ProcessEnv): () => Promise<string> {
  let cached: string | undefined = env.GOOGLE_OAUTH_ACCESS_TOKEN || undefined;
  return async () => {
    if (cached) return cached;
    const r = spawnSync("gcloud", ["auth", "print-access-token"], { encoding: "utf8" });
    if (r.error || r.status !== 0) {
      throw new CommandError(`no access token: \`gcloud auth print-access-token\` failed (${r.error?.message ?? r.stderr.trim()}); log in with gcloud auth login, or set GOOGLE_OAUTH_ACCESS_TOKEN`, 1);
    }
    cached = r.stdout.trim();
    return cached;
  };
}
