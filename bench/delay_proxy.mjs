// A TCP proxy on 127.0.0.1 that holds every chunk for a fixed delay in each
// direction: Redis "one network hop away" on one machine. Runs under Node,
// whose 1 ms timers fire after about 1.1 ms (Deno's after about 2 ms).
//
//   node bench/delay_proxy.mjs TARGET_PORT DELAY_MS
//
// Prints `{"port":N}` once listening; exits when stdin closes (so it never
// outlives the benchmark that started it). Only 127.0.0.1 on both sides.
//
// It also counts round trips: a client's data that arrives after Redis last
// answered on that connection starts one (commands a client pipelines go out
// together and count once). With one request at a time that is the number of
// times the request waited on Redis. Send the line `count` on stdin: it answers
// `{"roundTrips":N}` (the total since start).

import net from "node:net";
import { createInterface } from "node:readline";

const targetPort = Number(process.argv[2]);
const delayMs = Number(process.argv[3] ?? 1);
if (!Number.isInteger(targetPort) || targetPort <= 0 || !(delayMs >= 0)) {
  console.error("usage: node bench/delay_proxy.mjs TARGET_PORT DELAY_MS");
  process.exit(2);
}

/** Forwards `from`'s data to `to`, each chunk `delayMs` after it arrived, in order. */
function delayed(from, to) {
  from.on("data", (chunk) => {
    // Timers of equal duration fire in the order they were armed, so order is kept.
    setTimeout(() => {
      if (!to.destroyed) to.write(chunk);
    }, delayMs);
  });
  from.on("end", () => setTimeout(() => to.end(), delayMs));
}

let roundTrips = 0;

const server = net.createServer((client) => {
  client.setNoDelay(true);
  const upstream = net.connect({ host: "127.0.0.1", port: targetPort });
  upstream.setNoDelay(true);
  let waiting = false;
  client.on("data", () => {
    if (!waiting) roundTrips++;
    waiting = true;
  });
  upstream.on("data", () => {
    waiting = false;
  });
  delayed(client, upstream);
  delayed(upstream, client);
  const close = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on("error", close);
  upstream.on("error", close);
  client.on("close", close);
  upstream.on("close", close);
});

server.listen(0, "127.0.0.1", () => {
  process.stdout.write(JSON.stringify({ port: server.address().port }) + "\n");
});
const commands = createInterface({ input: process.stdin });
commands.on("line", (line) => {
  // `count`, as typed or as a JSON string.
  if (line.trim().replace(/^"(.*)"$/, "$1") === "count") {
    process.stdout.write(JSON.stringify({ roundTrips }) + "\n");
  }
});
commands.on("close", () => process.exit(0));
process.stdin.on("error", () => process.exit(0));
