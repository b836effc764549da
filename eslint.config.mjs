// ESLint of reorg's own map scripts (Leaflet, vendored, is not linted). `npm ci && npx eslint`.
// The scripts are classic browser scripts inlined in one page in this order: map_base.js defines the
// shared functions (reorgData, reorgBuildMap, ...), then the page's script (map.js or map_national.js).
import js from "@eslint/js";
import globals from "globals";

export default [
  { ignores: ["reorg/assets/leaflet.js", "node_modules/**", ".venv/**"] },
  js.configs.recommended,
  {
    files: ["reorg/assets/map*.js"],
    languageOptions: {
      ecmaVersion: 2017,
      sourceType: "script",
      globals: { ...globals.browser },
    },
    rules: {
      "no-unused-vars": ["error", { vars: "local", args: "none" }],
      eqeqeq: "error",
      "no-var": "off",
      curly: ["error", "multi-line"],
      "no-implicit-globals": "off",
    },
  },
];
