/**
 * Keys and their rotation (option `encrypt`) against a real redis-server: plain
 * sessions stored before are read and encrypted; `write: false` turns encryption
 * off; keys rotate under load across two store instances with nothing lost and
 * nobody logged out; an adapter; `reencrypt()` and its script.
 */

import assert from "node:assert/strict";
import type { SmartRedisStore } from "../mod.ts";
import { delay, Monitor, storeFixture, test } from "./_helpers.ts";
import { REENCRYPT_SCRIPT } from "../src/scripts/reencrypt_script.ts";
import { DAY, K1, K2, save, sessionWith, storeOn } from "./_encryption_helpers.ts";

test("sessions stored plain are read and encrypted whole at their next commit; reencrypt() does the idle ones", async () => {
  await using fx = await storeFixture();
  await save(fx.store, "busy", sessionWith({ a: 1, b: 2 }));
  await save(fx.store, "idle", sessionWith({ c: 3 }));
  const store = storeOn(fx.client, { encrypt: { keys: [K1] } });
  const session = await store.get("busy") as Record<string, unknown>;
  assert.deepEqual([session.a, session.b], [1, 2]);
  assert.equal((await store.get("idle"))?.c, 3);
  assert.equal(await fx.redis.hGet("session:idle", "c"), "3", "a read writes nothing");
  await using monitor = await Monitor.start(fx.server);
  session.a = 10;
  await save(store, "busy", session);
  const [commit] = await monitor.commands();
  assert.ok(commit.includes("a") && commit.includes("b") && commit.includes("cookie"), commit.join(" "));
  const busy = await fx.redis.hGetAll("session:busy");
  for (const field of ["a", "b", "cookie"]) assert.ok(busy[field].startsWith("\u00011k1:"), field);
  assert.deepEqual(await store.reencrypt(), { sessions: 2, updated: 1, values: 2, unreadable: 0 });
  const idle = await fx.redis.hGetAll("session:idle");
  for (const field of ["c", "cookie"]) assert.ok(idle[field].startsWith("\u00011k1:"), field);
  assert.deepEqual(await store.reencrypt(), { sessions: 2, updated: 0, values: 0, unreadable: 0 });
  const again = await store.get("busy") as Record<string, unknown>;
  assert.deepEqual([again.a, again.b], [10, 2]);
  // A commit after that sends only what it changed again.
  await monitor.commands();
  again.b = 20;
  await save(store, "busy", again);
  const [next] = await monitor.commands();
  assert.ok(next.includes("b") && !next.includes("a") && !next.includes("cookie"), next.join(" "));
});

test("write: false reads encrypted sessions and writes plain, at each commit; reencrypt() decrypts the rest", async () => {
  await using fx = await storeFixture({ encrypt: { keys: [K1] } });
  await save(fx.store, "busy", sessionWith({ a: 1, b: 2 }));
  await save(fx.store, "idle", sessionWith({ c: 3 }));
  const off = storeOn(fx.client, { encrypt: { keys: [K1], write: false } });
  const session = await off.get("busy") as Record<string, unknown>;
  session.a = 3;
  await save(off, "busy", session);
  assert.equal(await fx.redis.hGet("session:busy", "a"), "3");
  assert.equal(await fx.redis.hGet("session:busy", "b"), "2");
  assert.equal((await fx.redis.hGet("session:idle", "c"))!.charCodeAt(0), 1);
  assert.deepEqual(await off.reencrypt(), { sessions: 2, updated: 1, values: 2, unreadable: 0 });
  const plain = storeOn(fx.client, {});
  const busy = await plain.get("busy") as Record<string, unknown>;
  assert.deepEqual([busy.a, busy.b], [3, 2]);
  assert.equal((await plain.get("idle"))?.c, 3);
});

test("key rotation under load across two store instances loses nothing and logs nobody out", async () => {
  await using fx = await storeFixture({ encrypt: { keys: [K1] } });
  const sids = Array.from({ length: 16 }, (_, i) => `rot${i}`);
  for (const sid of sids) await save(fx.store, sid, sessionWith({ visits: 0 }));
  // Step 1 of a rotation: every instance learns k2 (k1 still encrypts); step 2: k2 encrypts
  // on the instances deployed first, while the others still write k1.
  // Both count visits: concurrent increments add up (and a commit that meets a value
  // reencrypt() rewrote meanwhile merges with it like with any concurrent change).
  const merge = (field: string, { base, ours, theirs }: { base: unknown; ours: unknown; theirs: unknown }) =>
    field === "visits" ? (theirs as number) + (ours as number) - (base as number) : ours;
  const a = storeOn(fx.client, { encrypt: { keys: [K1, K2] }, merge });
  const b = storeOn(fx.redis, { encrypt: { keys: [K2, K1] }, merge });
  let loggedOut = 0;
  const worker = async (store: SmartRedisStore, tag: string, rounds: number) => {
    for (let round = 0; round < rounds; round++) {
      await Promise.all(sids.map(async (sid) => {
        const session = await store.get(sid) as Record<string, unknown> | null;
        if (!session) return void loggedOut++;
        session[`${tag}${round}`] = round; // each request its own property: a lost write shows
        session.visits = (session.visits as number) + 1;
        await save(store, sid, session);
      }));
    }
  };
  const rounds = 6;
  const load = Promise.all([worker(a, "a", rounds), worker(b, "b", rounds)]);
  await delay(20);
  const during = await b.reencrypt(); // while both write
  await load;
  assert.equal(loggedOut, 0, "a session was not found during the rotation");
  assert.equal(during.unreadable, 0);
  assert.ok(during.values > 0, "reencrypt() ran while the sessions were written");
  // Step 3: every instance encrypts with k2; reencrypt() moves what the k1 writers left.
  const after = await b.reencrypt();
  assert.equal(after.sessions, sids.length);
  assert.equal(after.unreadable, 0);
  // Step 4: k1 is dropped, and every session still reads whole.
  const only2 = storeOn(fx.client, { encrypt: { keys: [K2] } });
  for (const sid of sids) {
    const session = await only2.get(sid) as Record<string, unknown>;
    assert.ok(session, `${sid} cannot be read with k2 alone`);
    assert.equal(session.visits, 2 * rounds, `${sid} lost visits`);
    for (let round = 0; round < rounds; round++) {
      assert.equal(session[`a${round}`], round, `${sid} lost a${round}`);
      assert.equal(session[`b${round}`], round, `${sid} lost b${round}`);
    }
    const hash = await fx.redis.hGetAll(`session:${sid}`);
    for (const [field, value] of Object.entries(hash)) {
      if (field.charCodeAt(0) !== 0) assert.ok(value.startsWith("\u00011k2:"), `${sid} ${field}`);
    }
  }
});

test("an adapter encrypts for the session and property it is given; reencrypt() follows isCurrent()", async () => {
  let version = 1;
  const calls: string[] = [];
  const adapter = {
    encrypt(plain: string, { sid, field }: { sid: string; field: string }) {
      calls.push(`encrypt ${sid} ${field}`);
      return `v${version}.` + Buffer.from(JSON.stringify([sid, field, plain])).toString("base64");
    },
    decrypt(cipher: string, { sid, field }: { sid: string; field: string }) {
      const [s, f, plain] = JSON.parse(
        Buffer.from(cipher.slice(cipher.indexOf(".") + 1), "base64").toString(),
      );
      if (s !== sid || f !== field) throw new Error("context mismatch");
      return plain as string;
    },
    isCurrent: (cipher: string) => cipher.startsWith(`v${version}.`),
  };
  await using fx = await storeFixture({ encrypt: adapter });
  await save(fx.store, "s", sessionWith({ secret: "swordfish" }));
  assert.deepEqual(calls.sort(), ["encrypt s cookie", "encrypt s secret"]);
  const stored = await fx.redis.hGet("session:s", "secret");
  assert.ok(stored!.startsWith("\u0001av1."), JSON.stringify(stored));
  assert.equal((await fx.store.get("s"))?.secret, "swordfish");
  await fx.redis.hSet("session:s", "cookie", stored!);
  await assert.rejects(fx.store.get("s"), /property "cookie" cannot be decrypted \(context mismatch\)/);
  await save(fx.store, "s", sessionWith({ secret: "swordfish" }));
  version = 2;
  assert.deepEqual(await fx.store.reencrypt(), { sessions: 1, updated: 1, values: 2, unreadable: 0 });
  assert.ok((await fx.redis.hGet("session:s", "secret"))!.startsWith("\u0001av2."));
});

test("reencrypt() without the option says what it needs", async () => {
  await using fx = await storeFixture();
  await assert.rejects(fx.store.reencrypt(), (error: Error) => {
    assert.ok(error instanceof TypeError);
    assert.match(error.message, /needs the option "encrypt"/);
    return true;
  });
});

test("the reencrypt script replaces only values still as read, keeps the expiry, and leaves a tombstone alone", async () => {
  await using fx = await storeFixture();
  const run = (key: string, args: string[]) =>
    fx.redis.sendCommand(["EVAL", REENCRYPT_SCRIPT.source, "1", key, ...args]);
  await fx.redis.hSet("session:s", { a: "old-a", b: "changed-b", "\0exp": "" });
  await fx.redis.pExpire("session:s", 60_000);
  assert.equal(await run("session:s", ["a", "old-a", "new-a", "b", "old-b", "new-b"]), 1);
  assert.deepEqual({ ...await fx.redis.hGetAll("session:s") }, { a: "new-a", b: "changed-b", "\0exp": "" });
  assert.ok(await fx.redis.pTTL("session:s") > 50_000, "the expiry is kept");
  await fx.redis.hSet("session:dead", { "\0dead": "1" });
  assert.equal(await run("session:dead", ["a", "", "new-a"]), -1);
  assert.deepEqual({ ...await fx.redis.hGetAll("session:dead") }, { "\0dead": "1" });
  assert.equal(await run("session:none", ["a", "", "new-a"]), -1);
  assert.equal(await fx.redis.exists("session:none"), 0);
});

test("reencrypt() also encrypts an idle session stored by connect-redis (a plain JSON string), keeping its expiry", async () => {
  await using fx = await storeFixture({ encrypt: { keys: [K1] } });
  const cookie = { originalMaxAge: DAY, expires: new Date(Date.now() + DAY).toISOString() };
  await fx.redis.set("session:legacy", JSON.stringify({ cookie, card: "4111-secret" }), { PX: DAY });
  assert.deepEqual(await fx.store.reencrypt(), { sessions: 1, updated: 1, values: 2, unreadable: 0 });
  const hash = await fx.redis.hGetAll("session:legacy");
  for (const field of ["cookie", "card"]) assert.ok(hash[field]?.startsWith("\u00011k1:"), field);
  const pttl = await fx.redis.pTTL("session:legacy");
  assert.ok(pttl > DAY / 2 && pttl <= DAY, `expiry kept: ${pttl}`);
  assert.equal((await fx.store.get("legacy"))?.card, "4111-secret");
  assert.deepEqual(await fx.store.reencrypt(), { sessions: 1, updated: 0, values: 0, unreadable: 0 });
});
