// Lint is part of `npm test`: typed rules catch floating promises, which in Pulumi code silently drop resources.
import js from "@eslint/js";
import globals from "globals";
import tseslint from "typescript-eslint";

/** What no file of the stack (index.ts, config/, components/) imports. */
const STACK_BOUNDARIES = [
  { group: ["**/planner/**", "**/planner"], message: "The stack does not import the planner (a tool, not part of the stack)." },
  { group: ["**/container/supervisor"], message: "Import the supervisor's log names from container/logContract, not the supervisor program." },
];

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
  {
    // The stack is composed of components; the planner is a tool beside it, and the supervisor a program in the
    // image: the stack reads the supervisor's log names from container/logContract.ts only. CONTRIBUTING.md.
    files: ["index.ts", "config/**/*.ts"],
    rules: { "no-restricted-imports": ["error", { patterns: STACK_BOUNDARIES }] },
  },
  {
    // Components declare their own args; index.ts maps the parsed config to them (CONTRIBUTING.md).
    files: ["components/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            ...STACK_BOUNDARIES,
            { group: ["**/config/**", "**/config"], message: "A component declares its own Args and does not import config/: index.ts maps the config to them." },
          ],
        },
      ],
    },
  },
);
