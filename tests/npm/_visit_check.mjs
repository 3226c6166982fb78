// What the Fastify and Hono checks ask of their face over real HTTP: the visit counter at "/" counts,
// and 20 parallel requests on one session ("/set/:i", each setting its own property p<i>) lose none
// of them. "/id" answers the session id.
import assert from "node:assert/strict";

/**
 * Runs the visits and the parallel writes against a face's app; logs a line after each.
 * @param face The face's name, for the log lines.
 * @param base The app's URL.
 * @param client A node-redis client on the app's Redis.
 * @param prefix The face's key prefix.
 * @returns The session's hash as Redis holds it.
 */
export async function checkVisitsAndParallelWrites(face, base, client, prefix) {
  let cookie = "";
  for (const n of [1, 2, 3]) {
    const response = await fetch(base, { headers: cookie ? { cookie } : {} });
    assert.equal(await response.text(), `visits ${n}`);
    cookie = response.headers.getSetCookie()[0]?.split(";")[0] ?? cookie;
  }
  console.log(`${face}: visits 1, 2, 3 counted`);
  const answers = await Promise.all(
    Array.from({ length: 20 }, (_, i) => fetch(`${base}/set/${i}`, { headers: { cookie } }).then((r) => r.text())),
  );
  assert.deepEqual(answers, Array(20).fill("ok"));
  const sid = await (await fetch(`${base}/id`, { headers: { cookie } })).text();
  const stored = await client.hGetAll(`${prefix}${sid}`);
  for (let i = 0; i < 20; i++) assert.equal(stored[`p${i}`], String(i), `p${i} survived the parallel writes`);
  console.log(`${face}: 20 parallel requests on one session: all 20 properties kept`);
  return stored;
}
