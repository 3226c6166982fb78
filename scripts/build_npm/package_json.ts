/**
 * The npm package's package.json: name, description, the exports map (one subpath
 * per entry of deno.json's "exports"), and the peers the app brings.
 * @module
 */

/** The npm package name (the JSR name lives in deno.json). */
export const PACKAGE_NAME = "connect-smart-redis";
/** The package's one-line description. */
export const DESCRIPTION =
  "A Redis session store for express-session that writes only what a request changed, " +
  "merges parallel requests' changes instead of losing them, and never lets a destroyed session come back.";
const REPOSITORY = "git+https://github.com/smart-redis/connect-smart-redis.git";
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

/**
 * The package.json of the package.
 * @param version The package version.
 * @param entries deno.json's "exports" as subpath → file.
 * @returns The manifest.
 */
export function packageJson(version: string, entries: Record<string, string>): Record<string, unknown> {
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
