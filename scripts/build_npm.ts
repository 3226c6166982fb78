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
 * Its parts, in `scripts/build_npm/`: the module graph (`library_graph.ts`), package.json
 * (`package_json.ts`), the CommonJS entry (`commonjs_main.ts`) and the checks of the result
 * (`package_checks.ts`).
 *
 * Usage: `deno task build:npm`
 * @module
 */

import { dirname, join, relative } from "node:path";
import { entryPoints, libraryGraph, rewriteSpecifiers } from "./build_npm/library_graph.ts";
import { DESCRIPTION, PACKAGE_NAME, packageJson } from "./build_npm/package_json.ts";
import { writeCommonJsMain } from "./build_npm/commonjs_main.ts";
import { checkContents, smokeTest } from "./build_npm/package_checks.ts";
import { copyDir, ROOT, run, writeJson } from "./build_npm/_util.ts";

/** The compiler and the types the sources need besides their own imports. */
const TOOLCHAIN: Record<string, string> = { "typescript": "5.9.3", "@types/node": "20.19.43" };

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

/** Compiles the copied sources with tsc into `outDir`, as ES modules or CommonJS. */
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

if (import.meta.main) {
  await buildNpm();
}
