import { defineConfig, mergeConfig } from "vitest/config";
import base from "./vitest.config";

// Stryker's instrumented code (every mutant behind a switch, coverage counted per test) runs the planner's searches
// ten to twenty times slower than `npm test` does: the recommendation tests need more than the 30 s timeout there.
export default mergeConfig(base, defineConfig({ test: { testTimeout: 300_000 } }));
