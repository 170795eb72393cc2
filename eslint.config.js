// eslint for extension/ (run by scripts/lint). The extension is plain classic scripts, no build
// step: each file is an IIFE over the shared `globalThis.Juzheng` namespace, so there are no
// modules and no cross-file globals to declare. Recommended rules plus a few that catch real bugs;
// style is left to review.
import js from "@eslint/js";
import globals from "globals";

export default [
  // frame.bundle.js is generated from linted sources (scripts/bundle-overlay).
  { ignores: ["node_modules/**", ".venv/**", "test-artifacts/**", "extension/overlay/frame.bundle.js"] },
  {
    files: ["extension/**/*.js"],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: "script",
      globals: { ...globals.browser, ...globals.serviceworker, ...globals.webextensions },
    },
    rules: {
      ...js.configs.recommended.rules,
      "no-unused-vars": ["error", { args: "none", caughtErrors: "none" }],
      // Defensive initial values (`let ok = false;` before a try) are a fine habit, not a bug.
      "no-useless-assignment": "off",
      eqeqeq: ["error", "smart"],
      "no-implied-eval": "error",
      "no-new-func": "error",
      "no-eval": "error",
    },
  },
  {
    files: ["eslint.config.js"],
    languageOptions: { sourceType: "module", globals: globals.node },
  },
];
