import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Slow suites (contracts across every example stack, fault injection, real servers) run in `npm run test:slow`,
    // so `npm test` stays within its time budget.
    exclude: ["test/slow/**", "**/node_modules/**"],
    // Pulumi's runtime keeps global state (mocks, config, the root resource): one file per worker process.
    pool: "forks",
    // Vitest's default leaves one core to itself: one worker on a 2-core CI machine, while many tests wait on child
    // processes (synth, servers). Every core runs a file: 67 s instead of 77 s for the suite on 2 cores.
    maxWorkers: availableParallelism(),
    testTimeout: 30_000,
  },
});
