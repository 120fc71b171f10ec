import { defineConfig } from "vitest/config";

/** `npm run test:slow`: the suites too slow for `npm test` (see vitest.config.ts). `.ci/run` runs both. */
export default defineConfig({
  test: {
    include: ["test/slow/**/*.test.ts"],
    pool: "forks",
    testTimeout: 120_000,
    hookTimeout: 300_000,
  },
});
