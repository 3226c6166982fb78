/**
 * Builds the npm package into `npm/` in dnt's layout, with `tsc` from npm:
 *
 * ```
 * npm/package.json     exports map: "import" → esm/mod.js, "require" → script/main.js, each with its types,
 *                      and one subpath per other entry of deno.json's "exports" (./fastify → esm/fastify.js
 *                      and script/fastify.js)
 * npm/esm/             ES modules, .js + .d.ts side by side
 * npm/script/          CommonJS, .js + .d.ts side by side, plus main.js: the seed's
 *                      `require("connect-smart-redis")(session)` factory carrying every named export
 * npm/README.md  npm/LICENSE
 * ```
 *
 * The sources (`mod.ts` and `src/`) are copied into a work dir (`.tmp/build_npm/`, where the pinned
 * toolchain stays installed between runs) with their relative `.ts` import specifiers rewritten to
 * `.js`, then compiled twice. The build fails when the output mentions `Deno.`, ships a `.ts`
 * source, or does not load under Node with both `import` and `require`.
 *
 * Usage: `deno task build:npm`
 * @module
 */

import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root. */
const ROOT = fileURLToPath(new URL("..", import.meta.url));
/** The npm package name (the JSR name lives in deno.json). */
const PACKAGE_NAME = "connect-smart-redis";
const DESCRIPTION = "A Redis session store for express-session that writes only what a request changed, " +
  "merges parallel requests' changes instead of losing them, and never lets a destroyed session come back.";
const REPOSITORY = "git+https://github.com/smart-redis/connect-smart-redis.git";
/** The compiler and the types the sources need besides their own imports. */
const TOOLCHAIN: Record<string, string> = { "typescript": "5.9.3", "@types/node": "20.19.43" };
/** npm packages the library imports at run time are peers: the app brings its own copy. */
const PEER_DEPENDENCIES: Record<string, string> = {
  "express-session": "^1.17.0",
  // The client majors the tests run (node-redis 4, 5, 6; ioredis 5, 6), no more.
  "redis": "^4.6.0 || ^5.0.0 || ^6.0.0",
  "ioredis": "^5.0.0 || ^6.0.0",
  // 1.17.6 is the first whose Store types the store's all/length signatures satisfy.
  "@types/express-session": "^1.17.6",
  // Metrics: imported dynamically, and only when the app has it.
  "@opentelemetry/api": "^1.3.0",
};
const OPTIONAL_PEERS = ["redis", "ioredis", "@types/express-session", "@opentelemetry/api"];
/**
 * The framework faces' peers: each is needed only by the entry of its framework (express-session by
 * the main entry and ./express), so all are optional: a Fastify app installs no express-session.
 */
const FACE_PEERS: Record<string, string> = {
  "fastify": "^5.0.0",
  "koa": "^3.0.0", // the tested major
  "hono": "^4.5.0", // the first whose Env types the face's variables satisfy
};
const FACE_OPTIONAL_PEERS = ["express-session", ...Object.keys(FACE_PEERS)];

/** Options of {@linkcode buildNpm}. */
export interface BuildNpmOptions {
  /**
   * Where to write the package.
   * @default {"<repo>/npm"}
   */
  outDir?: string;
  /**
   * The work dir holding the toolchain and the copied sources.
   * @default {"<repo>/.tmp/build_npm"}
   */
  workDir?: string;
  /**
   * Print progress.
   * @default {true}
   */
  verbose?: boolean;
}

/** What {@linkcode buildNpm} produced. */
export interface BuildNpmResult {
  /** The package folder (`npm/`). */
  outDir: string;
  /** The package version, from deno.json. */
  version: string;
  /** The package's files, relative to `outDir`, sorted. */
  files: string[];
}

/**
 * Builds `npm/`, checks what it contains, and smoke-tests it under Node.
 * @param options Output and work dirs.
 * @returns The package folder, its version and its files.
 */
export async function buildNpm(options: BuildNpmOptions = {}): Promise<BuildNpmResult> {
  const outDir = options.outDir ?? join(ROOT, "npm");
  const workDir = options.workDir ?? join(ROOT, ".tmp", "build_npm");
  const log = options.verbose === false
    ? () => {}
    : (message: string) => console.log(`build:npm: ${message}`);
  const started = performance.now();

  const config = JSON.parse(await Deno.readTextFile(join(ROOT, "deno.json")));
  const version: string = config.version;
  if (typeof version !== "string") throw new Error('deno.json has no "version"');

  const entries = entryPoints(config.exports);
  const { sources, packages } = await libraryGraph(Object.values(entries));
  await installToolchain(workDir, { ...TOOLCHAIN, ...packages }, log);

  const srcDir = join(workDir, "src");
  await Deno.remove(srcDir, { recursive: true }).catch(() => {});
  for (const source of sources) {
    const target = join(srcDir, source);
    await Deno.mkdir(dirname(target), { recursive: true });
    await Deno.writeTextFile(target, rewriteSpecifiers(await Deno.readTextFile(join(ROOT, source))));
  }

  const staging = join(workDir, "out");
  await Deno.remove(staging, { recursive: true }).catch(() => {});
  log("compiling esm/ and script/ with tsc");
  await Promise.all([
    compile(workDir, "esm", { module: "ES2022", moduleResolution: "Bundler" }, join(staging, "esm")),
    compile(workDir, "script", { module: "CommonJS", moduleResolution: "Node10" }, join(staging, "script")),
  ]);
  await writeJson(join(staging, "esm", "package.json"), { type: "module" });
  await writeJson(join(staging, "script", "package.json"), { type: "commonjs" });
  await writeCommonJsMain(workDir, join(staging, "script"));
  await writeJson(join(staging, "package.json"), packageJson(version, entries));
  await Deno.copyFile(join(ROOT, "LICENSE"), join(staging, "LICENSE"));
  try {
    await Deno.copyFile(join(ROOT, "README.md"), join(staging, "README.md"));
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    log("warning: README.md is missing; the package gets a stub README");
    await Deno.writeTextFile(join(staging, "README.md"), `# ${PACKAGE_NAME}\n\n${DESCRIPTION}\n`);
  }

  const files = await checkContents(staging);
  await Deno.remove(outDir, { recursive: true }).catch(() => {});
  await Deno.rename(staging, outDir).catch(async () => {
    await copyDir(staging, outDir); // another file system
    await Deno.remove(staging, { recursive: true });
  });
  await smokeTest(workDir, outDir, log);
  log(
    `built ${relative(ROOT, outDir) || outDir}/ (${PACKAGE_NAME}@${version}, ${files.length} files) in ${
      ((performance.now() - started) / 1000).toFixed(1)
    } s`,
  );
  return { outDir, version, files };
}

/** The library's modules and the npm packages they import: mod.ts's module graph, from `deno info`. */
interface LibraryGraph {
  /** Local modules, relative to the root. */
  sources: string[];
  /** npm packages the modules import (code and `@ts-types`), by name, at the version deno.json pins. */
  packages: Record<string, string>;
}

interface DenoInfo {
  modules: {
    kind: string;
    specifier: string;
    dependencies?: { specifier: string; code?: { specifier: string }; type?: { specifier: string } }[];
  }[];
}

/** deno.json's "exports" as subpath → file (".": "mod.ts", "./fastify": "fastify.ts", ...). */
function entryPoints(exports: unknown): Record<string, string> {
  const map = typeof exports === "string" ? { ".": exports } : exports as Record<string, string>;
  if (map?.["."] !== "./mod.ts") throw new Error('deno.json "exports" must map "." to "./mod.ts"');
  return Object.fromEntries(
    Object.entries(map).map(([subpath, file]) => [subpath, file.replace(/^\.\//, "")]),
  );
}

async function libraryGraph(entries: string[]): Promise<LibraryGraph> {
  const modules = (await Promise.all(entries.map(async (entry) => {
    const info: DenoInfo = JSON.parse(await run(Deno.execPath(), ["info", "--json", entry], ROOT));
    return info.modules;
  }))).flat();
  const seen = new Set<string>();
  const sources: string[] = [];
  const packages: Record<string, string> = {};
  for (const module of modules) {
    if (module.kind === "node" || module.kind === "npm" || seen.has(module.specifier)) continue;
    seen.add(module.specifier);
    if (!module.specifier.startsWith("file:")) {
      throw new Error(
        `Library code reaches ${module.specifier}: only local modules and npm packages build for npm`,
      );
    }
    sources.push(relative(ROOT, fileURLToPath(module.specifier)).split("\\").join("/"));
    for (const dependency of module.dependencies ?? []) {
      const { specifier } = dependency;
      if (/^(\.|\/|node:|file:)/.test(specifier)) continue;
      // A type-only import (`import type ... from "fastify"`) has no code, only types.
      const code = npmPackageOf(dependency.code?.specifier ?? dependency.type?.specifier);
      if (code?.name !== packageNameOf(specifier)) {
        throw new Error(
          `${module.specifier} imports "${specifier}", which deno.json does not map to "npm:${
            packageNameOf(specifier)
          }@<version>": the npm build keeps bare imports as they are, so use the package's own name`,
        );
      }
      packages[code.name] = code.version;
      const types = npmPackageOf(dependency.type?.specifier);
      if (types) packages[types.name] = types.version;
    }
  }
  return { sources: sources.sort(), packages };
}

function npmPackageOf(specifier: string | undefined): { name: string; version: string } | undefined {
  const match = /^npm:\/?(@?[^@/]+(?:\/[^@/]+)?)@([^/]+)/.exec(specifier ?? "");
  return match ? { name: match[1], version: match[2] } : undefined;
}

function packageNameOf(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
}

/** Rewrites relative `.ts` import specifiers to `.js`; tsc then rejects any that were missed. */
function rewriteSpecifiers(code: string): string {
  return code.replace(
    /(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(["'])(\.{1,2}\/[^"'\n]+)\.ts\2/g,
    (_whole, lead: string, quote: string, specifier: string) => `${lead}${quote}${specifier}.js${quote}`,
  );
}

/** Installs the toolchain into the work dir, unless the same set is installed already. */
async function installToolchain(
  workDir: string,
  packages: Record<string, string>,
  log: (message: string) => void,
): Promise<void> {
  await Deno.mkdir(workDir, { recursive: true });
  const manifest = JSON.stringify({ private: true, devDependencies: packages }, null, 2) + "\n";
  const stamp = join(workDir, "node_modules", ".build_npm_stamp");
  if (await Deno.readTextFile(stamp).catch(() => "") === manifest) return;
  log(`installing ${Object.entries(packages).map(([name, version]) => `${name}@${version}`).join(", ")}`);
  await Deno.writeTextFile(join(workDir, "package.json"), manifest);
  await run("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error"], workDir);
  await Deno.writeTextFile(stamp, manifest);
}

async function compile(
  workDir: string,
  flavor: string,
  moduleOptions: { module: string; moduleResolution: string },
  outDir: string,
): Promise<void> {
  const tsconfig = join(workDir, `tsconfig.${flavor}.json`);
  await writeJson(tsconfig, {
    compilerOptions: {
      ...moduleOptions,
      target: "ES2022",
      lib: ["ES2022"],
      types: ["node"],
      strict: true,
      noImplicitOverride: true,
      esModuleInterop: true,
      declaration: true,
      skipLibCheck: true,
      noEmitOnError: true,
      newLine: "lf",
      rootDir: "src",
      outDir,
    },
    include: ["src"],
  });
  await run("node", [join(workDir, "node_modules", "typescript", "bin", "tsc"), "-p", tsconfig], workDir);
}

/**
 * Writes `script/main.js`: the CommonJS entry. `require("connect-smart-redis")` is the seed's
 * factory itself, with every named export of mod.ts (and `default`) as its properties; `main.d.ts`
 * types it as `export =` a function merged with a namespace of those exports.
 */
async function writeCommonJsMain(workDir: string, scriptDir: string): Promise<void> {
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

function packageJson(version: string, entries: Record<string, string>): Record<string, unknown> {
  const subpaths = Object.fromEntries(
    Object.entries(entries).filter(([subpath]) => subpath !== ".").map(([subpath, file]) => {
      const name = file.replace(/\.ts$/, "");
      return [subpath, {
        import: { types: `./esm/${name}.d.ts`, default: `./esm/${name}.js` },
        require: { types: `./script/${name}.d.ts`, default: `./script/${name}.js` },
      }];
    }),
  );
  return {
    name: PACKAGE_NAME,
    version,
    description: DESCRIPTION,
    keywords: ["express-session", "session", "store", "redis", "connect", "express"],
    license: "MIT",
    repository: { type: "git", url: REPOSITORY },
    main: "./script/main.js",
    module: "./esm/mod.js",
    types: "./script/main.d.ts",
    exports: {
      ".": {
        import: { types: "./esm/mod.d.ts", default: "./esm/mod.js" },
        require: { types: "./script/main.d.ts", default: "./script/main.js" },
      },
      ...subpaths,
      "./package.json": "./package.json",
    },
    files: ["esm/", "script/", "README.md", "LICENSE"],
    sideEffects: false,
    engines: { node: ">=18" },
    peerDependencies: { ...PEER_DEPENDENCIES, ...FACE_PEERS },
    peerDependenciesMeta: Object.fromEntries(
      [...OPTIONAL_PEERS, ...FACE_OPTIONAL_PEERS].map((name) => [name, { optional: true }]),
    ),
  };
}

/** Fails on a `.ts` source, a test, or a `Deno.` reference in the output; returns the file list. */
async function checkContents(dir: string): Promise<string[]> {
  const files: string[] = [];
  const problems: string[] = [];
  for await (const path of walk(dir)) {
    const file = relative(dir, path).split("\\").join("/");
    files.push(file);
    if (/\.[cm]?tsx?$/.test(file) && !/\.d\.[cm]?ts$/.test(file)) {
      problems.push(`${file}: a TypeScript source`);
    }
    if (/(^|[/_.])test\.[cm]?[jt]s$/.test(file)) problems.push(`${file}: a test`);
    if (/\.[cm]?js$|\.d\.[cm]?ts$/.test(file)) {
      const lines = (await Deno.readTextFile(path)).split("\n");
      lines.forEach((line, index) => {
        if (/\bDeno\./.test(line)) problems.push(`${file}:${index + 1}: refers to Deno: ${line.trim()}`);
      });
    }
  }
  if (problems.length > 0) {
    throw new Error(
      `The npm package must run on Node with web-standard and node: APIs only:\n  ${problems.join("\n  ")}`,
    );
  }
  return files.sort();
}

/** Loads the package with `require` and with `import` under Node, from the toolchain's node_modules. */
async function smokeTest(workDir: string, outDir: string, log: (message: string) => void): Promise<void> {
  const installed = join(workDir, "node_modules", PACKAGE_NAME);
  await Deno.remove(installed, { recursive: true }).catch(() => {});
  await copyDir(outDir, installed);
  await run("node", ["-e", SMOKE_REQUIRE], workDir);
  await run("node", ["--input-type=module", "-e", SMOKE_IMPORT], workDir);
  await run("node", ["-e", SMOKE_FACES], workDir);
  log("smoke test: require() and import work under Node");
}

const SMOKE_REQUIRE = `
const assert = require("node:assert/strict");
const session = require("express-session");
const factory = require("${PACKAGE_NAME}");
assert.equal(typeof factory, "function", "require() returns the factory");
assert.equal(factory(session), factory.SmartRedisStore);
assert.equal(factory.default, factory);
assert.equal(factory.connectSmartRedis, factory);
assert.ok(factory.SmartRedisStore.prototype instanceof session.Store);
for (const name of ["RedisUnavailableError", "SessionConflictError", "SessionDataError"]) {
  assert.ok(factory[name].prototype instanceof Error, name);
}
`;

const SMOKE_IMPORT = `
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import session from "express-session";
import connectSmartRedis, * as named from "${PACKAGE_NAME}";
assert.equal(connectSmartRedis, named.connectSmartRedis);
assert.equal(connectSmartRedis(session), named.SmartRedisStore);
assert.ok(named.SmartRedisStore.prototype instanceof session.Store);
const required = createRequire(import.meta.url)("${PACKAGE_NAME}");
assert.deepEqual(Object.keys(required).sort(), Object.keys(named).sort(), "import and require expose the same names");
`;

/** Each face loads on its own with require(), without express-session. */
const SMOKE_FACES = `
const assert = require("node:assert/strict");
for (const face of ["fastify", "koa", "hono"]) {
  const loaded = require("${PACKAGE_NAME}/" + face);
  assert.equal(typeof loaded.smartRedisSession, "function", face);
}
const expressSession = Object.keys(require.cache).filter((path) => path.includes("express-session"));
assert.deepEqual(expressSession, [], "a face must not load express-session");
`;

async function* walk(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) yield* walk(path);
    else if (entry.isFile) yield path;
  }
}

async function copyDir(from: string, to: string): Promise<void> {
  for await (const path of walk(from)) {
    const target = join(to, relative(from, path));
    await Deno.mkdir(dirname(target), { recursive: true });
    await Deno.copyFile(path, target);
  }
}

async function writeJson(path: string, value: unknown): Promise<void> {
  await Deno.mkdir(dirname(path), { recursive: true });
  await Deno.writeTextFile(path, JSON.stringify(value, null, 2) + "\n");
}

/** Runs a command; returns its stdout, or throws with its output when it fails. */
async function run(command: string, args: string[], cwd: string): Promise<string> {
  const { code, stdout, stderr } = await new Deno.Command(command, {
    args,
    cwd,
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  const decoder = new TextDecoder();
  if (code !== 0) {
    const shown = args.map((arg) => arg.includes("\n") ? "<script>" : arg).join(" ");
    throw new Error(
      `\`${command} ${shown}\` failed (exit ${code}) in ${cwd}:\n${decoder.decode(stdout)}${
        decoder.decode(stderr)
      }`,
    );
  }
  return decoder.decode(stdout);
}

if (import.meta.main) {
  await buildNpm();
}
