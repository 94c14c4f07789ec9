// Type-checks dashboard JSON files against Grafana's published types with TypeScript,
// strict: each file becomes `export default (<json>) satisfies StrictDashboard;`, so every
// object in it gets TypeScript's excess-property check (strict-dashboard.ts says what
// StrictDashboard is). `--self-test` first breaks a copy of the first dashboard on purpose,
// once per kind of mistake, and fails unless each is caught; it also reports which of them
// Grafana's plain `Dashboard` type alone would catch (PlainDashboard).
// Usage: node check.cjs WORKDIR [--self-test] DASHBOARD.json...
//   WORKDIR: a directory whose node_modules (or a parent's) has typescript and @grafana/schema.
// Run through .ci/grafana-schema/check, which installs those at the pinned Grafana version.
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const [workdir, ...rest] = process.argv.slice(2);
const selfTest = rest.includes("--self-test");
const dashboards = rest.filter((arg) => arg !== "--self-test");
const ts = require(require.resolve("typescript", { paths: [workdir] }));

const HEADER_LINES = 2; // the import and `export default (` before the JSON

function source(json, typeName) {
  return `import type { ${typeName} } from './strict-dashboard';\nexport default (\n${json}\n) satisfies ${typeName};\n`;
}

/** Deliberate mistakes, each applied to a copy of a dashboard that passes. */
const MISTAKES = {
  "unknown dashboard field": (d) => { d.refreshEvery = "15s"; },
  "unknown panel field": (d) => { firstPanel(d).colour = "blue"; },
  "wrong panel type": (d) => { firstPanel(d).type = "timeserie"; },
  "misspelled panel option": (d) => { firstPanel(d).options = { ...firstPanel(d).options, legnd: {} }; },
  "misspelled custom field config": (d) => { firstPanel(d).fieldConfig.defaults.custom.lineWidht = 1; },
  "value outside an enum": (d) => { firstPanel(d).options.tooltip.mode = "several"; },
  "wrong value type": (d) => { firstPanel(d).gridPos.h = "8"; },
};

function firstPanel(dashboard) {
  const panel = dashboard.panels.find((p) => p.type !== "row");
  if (!panel) throw new Error("self-test needs a dashboard with a panel that is not a row");
  return panel;
}

function check(files) {
  const program = ts.createProgram(Object.keys(files), {
    strict: true,
    exactOptionalPropertyTypes: true,
    noEmit: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.CommonJS,
    moduleResolution: ts.ModuleResolutionKind.Node10,
  });
  const errors = Object.fromEntries(Object.keys(files).map((file) => [file, []]));
  for (const d of ts.getPreEmitDiagnostics(program)) {
    const file = d.file ? d.file.fileName : "(global)";
    const where = d.file ? d.file.getLineAndCharacterOfPosition(d.start) : { line: 0, character: 0 };
    const message = ts.flattenDiagnosticMessageText(d.messageText, "\n").split("\n").slice(-1)[0].trim();
    (errors[file] ??= []).push({ line: where.line + 1 - HEADER_LINES, column: where.character + 1, message });
  }
  return errors;
}

const work = fs.mkdtempSync(path.join(workdir, "check-"));
fs.copyFileSync(path.join(__dirname, "strict-dashboard.ts"), path.join(work, "strict-dashboard.ts"));
const files = {};
const origin = {};
dashboards.forEach((dashboard, i) => {
  const file = path.join(work, `dashboard${i}.ts`);
  files[file] = source(fs.readFileSync(dashboard, "utf8").trimEnd(), "StrictDashboard");
  origin[file] = dashboard;
});
const mistakes = {};
const plainOriginal = path.join(work, "original-plain.ts");
if (selfTest && dashboards.length > 0) {
  files[plainOriginal] = source(fs.readFileSync(dashboards[0], "utf8").trimEnd(), "PlainDashboard");
  Object.entries(MISTAKES).forEach(([name, breakIt], i) => {
    const broken = JSON.parse(fs.readFileSync(dashboards[0], "utf8"));
    breakIt(broken);
    const json = JSON.stringify(broken, null, 2);
    const strict = path.join(work, `mistake${i}-strict.ts`);
    const plain = path.join(work, `mistake${i}-plain.ts`);
    files[strict] = source(json, "StrictDashboard");
    files[plain] = source(json, "PlainDashboard");
    mistakes[name] = { strict, plain };
  });
}
for (const [file, text] of Object.entries(files)) fs.writeFileSync(file, text);
const errors = check(files);
fs.rmSync(work, { recursive: true, force: true });

let failed = false;
for (const [file, dashboard] of Object.entries(origin)) {
  for (const e of errors[file]) console.log(`${dashboard}:${e.line}:${e.column}: ${e.message}`);
  console.log(`${dashboard}: ${errors[file].length === 0 ? "OK" : `${errors[file].length} error(s)`} against Grafana's published types`);
  failed ||= errors[file].length > 0;
}
for (const file of Object.keys(errors).filter((f) => !(f in files))) {
  for (const e of errors[file]) console.log(`${file}: ${e.message}`);
  failed ||= errors[file].length > 0;
}
if (selfTest) {
  const plainErrors = errors[plainOriginal];
  console.log(`self-test: ${dashboards[0]} passes Grafana's plain Dashboard type too: ${plainErrors.length === 0 ? "yes" : plainErrors[0].message}`);
  failed ||= plainErrors.length > 0;
  console.log(`self-test on broken copies of it (caught by this check / by Grafana's plain Dashboard type):`);
  for (const [name, { strict, plain }] of Object.entries(mistakes)) {
    const caught = errors[strict].length > 0;
    const plainCaught = errors[plain].length > 0;
    const why = caught ? errors[strict][0].message.slice(0, 120) : "NOT CAUGHT";
    console.log(`  ${caught ? "✓" : "✗"} ${name}: ${caught ? "caught" : "missed"} / ${plainCaught ? "caught" : "missed"}  (${why})`);
    failed ||= !caught;
  }
}
process.exit(failed ? 1 : 0);
