#!/usr/bin/env node
// Format check for Terraform without a terraform binary: formats every .tf file under the given
// folder with HashiCorp's HCL formatter (hclwrite, compiled to wasm in @cdktf/hcl-tools — the
// formatter `terraform fmt` uses) and fails, listing the files, when any would change. A file that
// does not parse fails too.
//
//   node scripts/hcl-fmt-check.mjs <node_modules folder> <terraform folder>
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join, relative, resolve } from "node:path";

const [modules, root] = process.argv.slice(2);
if (!modules || !root) {
  console.error("usage: hcl-fmt-check.mjs <node_modules folder> <terraform folder>");
  process.exit(2);
}
const require = createRequire(join(resolve(modules), "noop.js"));
const { format } = require("@cdktf/hcl-tools");

function tfFiles(dir) {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return entry.name.startsWith(".") ? [] : tfFiles(path);
      return entry.name.endsWith(".tf") ? [path] : [];
    })
    .sort();
}

const files = tfFiles(root);
if (files.length === 0) {
  console.error(`no .tf files under ${root}`);
  process.exit(1);
}
const bad = [];
for (const file of files) {
  const text = readFileSync(file, "utf8");
  let formatted;
  try {
    formatted = await format(text);
  } catch (e) {
    bad.push(`${relative(process.cwd(), file)} (does not parse: ${String(e.message ?? e).trim()})`);
    continue;
  }
  if (formatted !== text) bad.push(relative(process.cwd(), file));
}
if (bad.length > 0) {
  console.error("these Terraform files are not formatted (terraform fmt -recursive terraform):");
  for (const b of bad) console.error(`  ${b}`);
  process.exit(1);
}
console.log(`${files.length} Terraform files formatted`);
