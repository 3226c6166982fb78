/**
 * The npm package's published types, as TypeScript users meet them: `tsc` in the consumer folder
 * (tests/_npm_consumer.ts) over the consumers of tests/npm/, under the module settings users pick.
 * The `tsc` runs are CPU-bound and independent: they start together, two at a time, when the first
 * case runs, and each case awaits its own.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "./_helpers.ts";
import { command, installedConsumer, type Outcome } from "./_npm_consumer.ts";

const RESOLUTIONS = ["NodeNext", "Bundler"];

/**
 * Targets and module settings the published types must check under, with library checking on.
 * The target only changes the default lib, and ES2020's is the smallest, so every module setting
 * runs at ES2020, ES2021 once here, and ES2022 in the node-redis consumer checks.
 */
const TYPE_MATRIX: { target: string; module: string }[] = [
  ...["NodeNext", "Node16", "CommonJS", "Bundler"].map((module) => ({ target: "ES2020", module })),
  { target: "ES2021", module: "Node16" },
];

/** How many `tsc` runs go side by side. */
const WIDTH = 2;

for (const resolution of RESOLUTIONS) {
  test(`npm: a TypeScript consumer using node-redis type-checks with "moduleResolution": "${resolution}"`, async () => {
    const outcome = await typeCheck(consumerConfig(resolution));
    assert.equal(outcome.code, 0, `tsc --noEmit (${resolution}) failed:\n${outcome.output}`);
  });
}

for (const { target, module } of TYPE_MATRIX) {
  test(`npm: the published types check with "target": "${target}", "module": "${module}", skipLibCheck off`, async () => {
    const { config } = matrixConfig(target, module);
    const outcome = await typeCheck(config);
    assert.equal(outcome.code, 0, `tsc -p ${config} failed:\n${outcome.output}`);
  });
}

/** The node-redis consumer's tsconfig (in tests/npm/) for a module resolution. */
function consumerConfig(resolution: string): string {
  return `tsconfig.${resolution.toLowerCase()}.json`;
}

/** A matrix case's tsconfig file name and contents. */
function matrixConfig(target: string, module: string): { config: string; settings: object } {
  const config = `tsconfig.matrix.${target}.${module}.json`.toLowerCase();
  const resolution = module === "Bundler"
    ? { module: "ESNext", moduleResolution: "Bundler" }
    : { module, moduleResolution: module === "CommonJS" ? "Node10" : module };
  const files = module === "Bundler"
    ? ["typings_consumer.mts"]
    : module === "CommonJS"
    ? ["typings_consumer.cts"]
    : ["typings_consumer.mts", "typings_consumer.cts"];
  return {
    config,
    settings: {
      compilerOptions: {
        ...resolution,
        target,
        strict: true,
        noEmit: true,
        skipLibCheck: false,
        types: ["node"],
      },
      files,
    },
  };
}

let typeChecks: Promise<Map<string, Promise<Outcome>>> | undefined;

/** The outcome of `tsc -p <config>` in the consumer folder; the first call starts them all. */
async function typeCheck(config: string): Promise<Outcome> {
  const outcome = (await (typeChecks ??= startTypeChecks())).get(config);
  if (!outcome) throw new Error(`No type check was started for ${config}`);
  return await outcome;
}

async function startTypeChecks(): Promise<Map<string, Promise<Outcome>>> {
  const { dir } = await installedConsumer();
  const configs = RESOLUTIONS.map(consumerConfig);
  for (const { target, module } of TYPE_MATRIX) {
    const { config, settings } = matrixConfig(target, module);
    await Deno.writeTextFile(join(dir, config), JSON.stringify(settings));
    configs.push(config);
  }
  const outcomes = new Map<string, Promise<Outcome>>();
  const queue = configs.map((config) => {
    let start!: () => void;
    const outcome = new Promise<void>((resolve) => start = resolve).then(() => tsc(dir, config));
    outcomes.set(config, outcome);
    return { start, outcome };
  });
  const lane = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      next.start();
      await next.outcome.catch(() => {}); // the case awaiting it reports the failure
    }
  };
  for (let i = 0; i < WIDTH; i++) lane();
  return outcomes;
}

function tsc(dir: string, config: string): Promise<Outcome> {
  const compiler = join(dir, "node_modules", "typescript", "bin", "tsc");
  return command("node", [compiler, "-p", config], dir, {}, 120_000);
}
