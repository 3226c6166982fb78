/**
 * The npm build's file and process helpers.
 * @module
 */

import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root. */
export const ROOT: string = fileURLToPath(new URL("../..", import.meta.url));

/** Every file below `dir`, depth first. */
export async function* walk(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) yield* walk(path);
    else if (entry.isFile) yield path;
  }
}

/** Copies every file below `from` to the same place below `to`. */
export async function copyDir(from: string, to: string): Promise<void> {
  for await (const path of walk(from)) {
    const target = join(to, relative(from, path));
    await Deno.mkdir(dirname(target), { recursive: true });
    await Deno.copyFile(path, target);
  }
}

/** Writes `value` as indented JSON, making the folder. */
export async function writeJson(path: string, value: unknown): Promise<void> {
  await Deno.mkdir(dirname(path), { recursive: true });
  await Deno.writeTextFile(path, JSON.stringify(value, null, 2) + "\n");
}

/** Runs a command; returns its stdout, or throws with its output when it fails. */
export async function run(command: string, args: string[], cwd: string): Promise<string> {
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
