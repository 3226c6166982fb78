/**
 * What the npm build compiles: deno.json's entry points, the local modules they
 * reach and the npm packages those import (from `deno info`), and the sources'
 * import specifiers rewritten for Node.
 * @module
 */

import { relative } from "node:path";
import { fileURLToPath } from "node:url";
import { ROOT, run } from "./_util.ts";

/** The library's modules and the npm packages they import: mod.ts's module graph, from `deno info`. */
export interface LibraryGraph {
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
export function entryPoints(exports: unknown): Record<string, string> {
  const map = typeof exports === "string" ? { ".": exports } : exports as Record<string, string>;
  if (map?.["."] !== "./mod.ts") throw new Error('deno.json "exports" must map "." to "./mod.ts"');
  return Object.fromEntries(
    Object.entries(map).map(([subpath, file]) => [subpath, file.replace(/^\.\//, "")]),
  );
}

/** mod.ts's module graph (and the other entries'): local modules and npm packages, from `deno info`. */
export async function libraryGraph(entries: string[]): Promise<LibraryGraph> {
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
export function rewriteSpecifiers(code: string): string {
  return code.replace(
    /(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(["'])(\.{1,2}\/[^"'\n]+)\.ts\2/g,
    (_whole, lead: string, quote: string, specifier: string) => `${lead}${quote}${specifier}.js${quote}`,
  );
}
