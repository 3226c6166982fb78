/**
 * The replace script: writes a whole session, replacing whatever the key held
 * (a hash or a connect-redis string) unless the session was destroyed.
 *
 * KEYS[1]  the session key
 * ARGV[1]  the key's life in ms; "-1" for no expiry; "0" deletes the session instead
 * ARGV[2]  the sliding expiry in ms to record in `\0ttl` ("" for none)
 * ARGV[3..]  field, value pairs
 * Reply    "ok" written (or deleted); "dead" the session was destroyed: nothing written;
 *          an error starting "WRONGTYPE" for a key that is not a hash or string (nothing changed).
 * @module
 */

import { defineScript, type LuaScript } from "./script_runner.ts";

/** See the module doc for the contract. */
export const REPLACE_SCRIPT: LuaScript = defineScript(
  "replace",
  `
local key = KEYS[1]
local dead = redis.pcall('HEXISTS', key, '\\0dead')
if type(dead) == 'table' then
  local kind = redis.call('TYPE', key).ok
  if kind ~= 'string' then return redis.error_reply('WRONGTYPE the key holds a ' .. kind .. ', not a session') end
elseif dead == 1 then
  return 'dead'
end
redis.call('DEL', key)
if ARGV[1] == '0' then return 'ok' end
-- unpack() has a stack limit: send long lists in slices (an even size keeps pairs together).
redis.call('HSET', key, '\\0ttl', ARGV[2], unpack(ARGV, 3, math.min(#ARGV, 4002)))
for first = 4003, #ARGV, 4000 do redis.call('HSET', key, unpack(ARGV, first, math.min(first + 3999, #ARGV))) end
if ARGV[1] ~= '-1' then redis.call('PEXPIRE', key, ARGV[1]) end
return 'ok'
`,
);
