// Runs the seed README's example (seed_readme_example.cjs, verbatim) as CommonJS under Node against
// the redis-server the harness started on 127.0.0.1:6379, and visits it three times with one cookie.
// Exits non-zero on failure.
"use strict";
const assert = require("node:assert/strict");
const { spawn } = require("node:child_process");
const fs = require("node:fs");
const net = require("node:net");
const path = require("node:path");

const EXAMPLE = path.join(__dirname, "seed_readme_example.cjs");
const LISTEN = "app.listen(3000);";

setTimeout(() => {
  console.error("seed README check: timed out");
  process.exit(2);
}, 30_000).unref();

async function main() {
  let script = EXAMPLE;
  let port = 3000;
  if (!(await portIsFree(3000))) {
    // The only change allowed to the example: where it listens.
    port = await freePort();
    const code = fs.readFileSync(EXAMPLE, "utf8");
    assert.equal(code.split(LISTEN).length, 2, `the example has one "${LISTEN}"`);
    script = path.join(__dirname, "seed_readme_example_port.cjs");
    fs.writeFileSync(script, code.replace(LISTEN, `app.listen(${port});`));
    console.log(`port 3000 is taken: running the example with app.listen(${port}) instead`);
  }

  const app = spawn(process.execPath, [script], { cwd: __dirname, stdio: ["ignore", "inherit", "pipe"] });
  let stderr = "";
  app.stderr.on("data", (chunk) => (stderr += chunk));
  const exited = new Promise((resolve) => app.once("exit", (code, signal) => resolve({ code, signal })));
  const stop = () => app.kill("SIGKILL");
  process.once("SIGTERM", () => {
    stop();
    process.exit(1);
  });
  try {
    await Promise.race([
      waitUntilListening(port),
      exited.then(({ code }) => {
        throw new Error(`the example exited (code ${code}) before listening:\n${stderr}`);
      }),
    ]);
    let cookie;
    for (const visit of [1, 2, 3]) {
      const response = await fetch(`http://127.0.0.1:${port}/`, { headers: cookie ? { cookie } : {} });
      const body = await response.text();
      assert.equal(response.status, 200, `visit ${visit}: ${body}\n${stderr}`);
      assert.equal(body, `You visited this site ${visit} times!`);
      if (visit === 1) {
        const setCookie = response.headers.get("set-cookie");
        assert.ok(setCookie, "the first visit sets the session cookie");
        cookie = setCookie.split(";")[0];
      }
    }
    console.log(`seed README example on port ${port}: visits 1, 2, 3 counted over HTTP with one cookie`);
  } finally {
    stop();
    await exited;
  }
}

function portIsFree(port) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen(port, () => server.close(() => resolve(true)));
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function waitUntilListening(port) {
  for (let attempt = 0; attempt < 400; attempt++) {
    const connected = await new Promise((resolve) => {
      const socket = net.connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (connected) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`nothing listens on port ${port} after 10 s`);
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
