/**
 * The `encrypt` option's checks and the field cipher alone (no Redis): bad keys
 * fail when the store is made, with messages that say what to pass; what one
 * session and property encrypted opens for them only, remembered or not.
 */

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { resolveOptions } from "../src/options/options.ts";
import { FieldCipher, isSealed } from "../src/encryption/field_cipher.ts";
import { resolveEncryption } from "../src/encryption/encryption_options.ts";
import { SessionDataError } from "../src/errors.ts";

const SECRET = "0123456789abcdef0123456789abcdef";

Deno.test("bad encrypt options fail at construction with what to pass", () => {
  const cases: [unknown, typeof TypeError | typeof RangeError, RegExp][] = [
    ["key", TypeError, /must be \{ keys: \[\{ id, secret \}\] \} or an adapter/],
    [{ keys: [] }, TypeError, /non-empty array/],
    [{ keys: [{ id: "a:b", secret: SECRET }] }, TypeError, /an id of 1 to 32 letters/],
    [{ keys: [{ id: "k", secret: SECRET }, { id: "k", secret: SECRET }] }, TypeError, /the id "k" twice/],
    [{ keys: [{ id: "k", secret: "short" }] }, RangeError, /has 5 characters, too few.*at least 32/],
    [{ keys: [{ id: "k", secret: new Uint8Array(16) }] }, RangeError, /must be 32 bytes, got 16/],
    [{ keys: [{ id: "k" }] }, TypeError, /needs a secret/],
    [
      { keys: [{ id: "k", secret: SECRET }], write: "no" },
      TypeError,
      /"encrypt.write" must be true or false/,
    ],
    [{ keys: [{ id: "k", secret: SECRET }], remember: -1 }, RangeError, /"encrypt.remember" must be a whole/],
    [
      { keys: [{ id: "k", secret: SECRET }], plain: "ignore" },
      TypeError,
      /"encrypt.plain" must be "read" or "refuse", got "ignore"/,
    ],
    [
      { keys: [{ id: "k", secret: SECRET }], plain: "refuse", write: false },
      TypeError,
      /"refuse" contradicts "encrypt.write": false .*turn encryption off with plain: "read"/,
    ],
    [
      { encrypt: () => "", decrypt: () => "", plain: "refuse", write: false },
      TypeError,
      /"refuse" contradicts "encrypt.write": false/,
    ],
    [{ encrypt: () => "" }, TypeError, /needs both encrypt\(\) and decrypt\(\)/],
  ];
  for (const [encrypt, type, message] of cases) {
    assert.throws(() => resolveOptions({ encrypt } as never), (error: Error) => {
      assert.ok(error instanceof type, `${JSON.stringify(encrypt)}: ${error}`);
      assert.match(error.message, message);
      return true;
    });
  }
  assert.equal(resolveOptions({}).encrypt, undefined);
  assert.deepEqual(resolveOptions({ encrypt: { keys: [{ id: "k", secret: SECRET }] } }).encrypt, {
    kind: "keys",
    keys: [{ id: "k", secret: SECRET }],
    write: true,
    plain: "read",
    remember: 4_000_000,
  });
  const adapter = { encrypt: () => "", decrypt: () => "", plain: "refuse" } as const;
  assert.equal(resolveOptions({ encrypt: adapter }).encrypt?.plain, "refuse");
});

for (const remember of [4_000_000, 0]) {
  Deno.test(`a value opens only for its session and property (remember: ${remember})`, async () => {
    const cipher = new FieldCipher(
      resolveEncryption({ keys: [{ id: "k", secret: randomBytes(32) }], remember })!,
    );
    const sealed = await cipher.seal("s1", "role", '"admin"');
    assert.ok(isSealed(sealed) && sealed.startsWith("\u00011k:"));
    assert.notEqual(await cipher.seal("s1", "role", '"admin"'), sealed, "a fresh IV each time");
    assert.equal(await cipher.open("s1", "role", sealed), '"admin"');
    // Unambiguous associated data: ("s1", "role") is not ("s", "1role") nor ("s1r", "ole").
    for (const [sid, field] of [["s2", "role"], ["s1", "name"], ["s", "1role"], ["s1r", "ole"]]) {
      await assert.rejects(
        async () => await cipher.open(sid, field, sealed),
        SessionDataError,
        `${sid} ${field}`,
      );
    }
    assert.equal(cipher.open("s1", "role", "42"), "42", "a plain value is read as it is");
    assert.equal(cipher.stale("42"), true);
    assert.equal(cipher.stale(sealed), false);
  });
}

Deno.test("the first key encrypts, every key decrypts, and a value under a key not given is refused", async () => {
  const old = new FieldCipher(resolveEncryption({ keys: [{ id: "old", secret: SECRET }] })!);
  const rotated = new FieldCipher(
    resolveEncryption({ keys: [{ id: "new", secret: randomBytes(32) }, { id: "old", secret: SECRET }] })!,
  );
  const before = await old.seal("s", "f", "1");
  assert.equal(await rotated.open("s", "f", before), "1");
  assert.equal(rotated.stale(before), true);
  const after = await rotated.seal("s", "f", "1");
  assert.ok(after.startsWith("\u00011new:"));
  await assert.rejects(async () => await old.open("s", "f", after), /no key "new" among the keys given/);
  await assert.rejects(async () => await rotated.seal("s", "f", "\u0001x"), TypeError);
});

Deno.test('with plain: "refuse", a plain property value is rejected like a failed decryption, metadata is not', async () => {
  const cipher = new FieldCipher(
    resolveEncryption({ keys: [{ id: "k", secret: SECRET }], plain: "refuse" })!,
  );
  const sealed = await cipher.seal("s1", "role", '"user"');
  assert.equal(await cipher.open("s1", "role", sealed), '"user"');
  const opened = cipher.open("s1", "role", '"admin"');
  assert.ok(opened instanceof Promise, "rejected, not thrown: callers open values in parallel");
  await assert.rejects(opened, (error: Error) => {
    assert.ok(error instanceof SessionDataError);
    assert.match(error.message, /^Session "s1" property "role" is stored plain \(not encrypted\) and option/);
    return true;
  });
  assert.equal(cipher.open("s1", "\0user", "ada"), "ada", "metadata fields stay plain");
  assert.throws(
    () => cipher.admitString("s1"),
    /^SessionDataError: Session "s1" is stored as a connect-redis/,
  );
  const reading = new FieldCipher(resolveEncryption({ keys: [{ id: "k", secret: SECRET }] })!);
  assert.equal(reading.open("s1", "role", '"admin"'), '"admin"');
  reading.admitString("s1");
});
