import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Pulumi's runtime keeps global state (mocks, config, the root resource): one file per worker process.
    pool: "forks",
    testTimeout: 30_000,
  },
});
