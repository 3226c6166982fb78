/**
 * The reencrypt script (option `encrypt`, `reencrypt()`): replaces stored
 * property values by their form under the current key, each only if it still
 * holds exactly what was read, so that a concurrent write is never undone. The
 * key's expiry is left as it is (HSET keeps it).
 *
 * KEYS[1]  the session key
 * ARGV     (field, value read, new value) triples
 * Reply    how many fields were replaced; -1 when the key is no live session hash
 *          (destroyed, expired or missing meanwhile): nothing changed.
 * @module
 */

import { defineScript, type LuaScript } from "./script_runner.ts";

/** See the module doc for the contract. */
export const REENCRYPT_SCRIPT: LuaScript = defineScript(
  "reencrypt",
  `
local key = KEYS[1]
if redis.call('TYPE', key).ok ~= 'hash' or redis.call('HEXISTS', key, '\\0dead') == 1 then return -1 end
local replaced = 0
for i = 1, #ARGV, 3 do
  if redis.call('HGET', key, ARGV[i]) == ARGV[i + 1] then
    redis.call('HSET', key, ARGV[i], ARGV[i + 2])
    replaced = replaced + 1
  end
end
return replaced
`,
);
