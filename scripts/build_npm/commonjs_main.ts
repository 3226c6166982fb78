/**
 * The CommonJS entry of the npm package, `script/main.js` and its types: the
 * seed's `require("connect-smart-redis")(session)` factory carrying every named export.
 * @module
 */

import { join } from "node:path";
import { run } from "./_util.ts";

/**
 * Writes `script/main.js`: the CommonJS entry. `require("connect-smart-redis")` is the seed's
 * factory itself, with every named export of mod.ts (and `default`) as its properties; `main.d.ts`
 * types it as `export =` a function merged with a namespace of those exports.
 */
export async function writeCommonJsMain(workDir: string, scriptDir: string): Promise<void> {
  const listed = await run("node", ["-e", LIST_EXPORTS, join(scriptDir, "mod.d.ts")], workDir);
  const exports: { name: string; file: string }[] = JSON.parse(listed);
  if (!exports.some((entry) => entry.name === "connectSmartRedis")) {
    throw new Error("mod.ts must export connectSmartRedis: the CommonJS entry is that factory");
  }
  await Deno.writeTextFile(
    join(scriptDir, "main.js"),
    `"use strict";
// The CommonJS entry: require("connect-smart-redis") is the seed's factory,
// require("connect-smart-redis")(session), and carries every named export too.
const mod = require("./mod.js");
const connectSmartRedis = mod.connectSmartRedis;
for (const name of Object.keys(mod)) {
  if (name !== "connectSmartRedis") {
    Object.defineProperty(connectSmartRedis, name, { enumerable: true, value: mod[name] });
  }
}
Object.defineProperty(connectSmartRedis, "connectSmartRedis", { enumerable: true, value: connectSmartRedis });
Object.defineProperty(connectSmartRedis, "__esModule", { value: true });
module.exports = connectSmartRedis;
`,
  );
  const files = [...new Set(exports.map((entry) => entry.file))].sort();
  const alias = (file: string) => `_m${files.indexOf(file)}`;
  const members = exports.filter((entry) => entry.name !== "default" && entry.name !== "connectSmartRedis");
  await Deno.writeTextFile(
    join(scriptDir, "main.d.ts"),
    [
      'import * as _mod from "./mod.js";',
      ...files.map((file) => `import * as ${alias(file)} from "./${file.replace(/\.d\.ts$/, ".js")}";`),
      "/**",
      " * The seed's factory form: `require('connect-smart-redis')(session)` returns a store class",
      " * extending the given express-session module's `Store`. Every named export is a property too.",
      " */",
      "declare function connectSmartRedis(",
      "  ...args: Parameters<typeof _mod.connectSmartRedis>",
      "): ReturnType<typeof _mod.connectSmartRedis>;",
      "declare namespace connectSmartRedis {",
      ...members.map((entry) => `  export import ${entry.name} = ${alias(entry.file)}.${entry.name};`),
      "  const _factory: typeof _mod.connectSmartRedis;",
      "  export { _factory as connectSmartRedis, _factory as default };",
      "}",
      "export = connectSmartRedis;",
      "",
    ].join("\n"),
  );
}

/** A Node script printing mod.d.ts's exports, each with the .d.ts file that declares it. */
const LIST_EXPORTS = `
const ts = require("typescript");
const path = require("node:path");
const entry = process.argv[1];
const program = ts.createProgram([entry], { noEmit: true, types: [], module: ts.ModuleKind.CommonJS });
const checker = program.getTypeChecker();
const exports = checker.getExportsOfModule(checker.getSymbolAtLocation(program.getSourceFile(entry)));
console.log(JSON.stringify(exports.map((symbol) => {
  const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
  const file = target.declarations[0].getSourceFile().fileName;
  return { name: symbol.name, file: path.relative(path.dirname(entry), file).split(path.sep).join("/") };
})));
`;
