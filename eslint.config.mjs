// Lint is part of `npm test`: typed rules catch floating promises, which in Pulumi code silently drop resources.
import js from "@eslint/js";
import globals from "globals";
import tseslint from "typescript-eslint";

export default tseslint.config(
  // .stryker-tmp/ holds the sandboxes of a mutation run in progress (npm run test:mutation), reports/ its output.
  { ignores: ["node_modules/**", "bin/**", ".synth/**", "container/dist/**", ".stryker-tmp/**", "reports/**"] },
  js.configs.recommended,
  { files: ["**/*.mjs"], languageOptions: { globals: globals.node } },
  ...tseslint.configs.recommended,
  {
    files: ["**/*.ts"],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
      "no-console": "off",
    },
  },
  {
    // Tests, the offline runner and the guard read resource inputs and API answers, untyped JSON by nature.
    files: ["test/**/*.ts", "scripts/offline.ts", "scripts/synthReport.ts", "functions/**/*.ts"],
    rules: { "@typescript-eslint/no-explicit-any": "off" },
  },
);
