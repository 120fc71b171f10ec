import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Slow suites (contracts across every example stack, fault injection, real servers) run in `npm run test:slow`,
    // so `npm test` stays within its time budget.
    exclude: ["test/slow/**", "**/node_modules/**"],
    // Pulumi's runtime keeps global state (mocks, config, the root resource): one file per worker process.
    pool: "forks",
    testTimeout: 30_000,
  },
});
