/**
 * The destroy script: replaces a session by a tombstone, so that no request
 * already in flight can write it back; the tombstone expires by itself.
 *
 * KEYS[1]  the session key
 * ARGV[1]  how long the tombstone stays, in whole ms ("0": delete without a tombstone); checked
 *          before anything is written
 * Reply    1 a live session was destroyed; 0 there was none;
 *          an error starting "WRONGTYPE" for a key that is not a hash or string (nothing deleted);
 *          an error starting "TRYAGAIN" for a string in a Redis Cluster slot being migrated away
 *          (nothing deleted: retry once the key has moved).
 * @module
 */

import { CHECK_TOMBSTONE_LIFE, WRITE_TOMBSTONE } from "./_tombstone_lua.ts";
import { defineScript, type LuaScript } from "./script_runner.ts";

/** See the module doc for the contract. */
export const DESTROY_SCRIPT: LuaScript = defineScript(
  "destroy",
  `
local key = KEYS[1]
${CHECK_TOMBSTONE_LIFE}
local kind = redis.call('TYPE', key).ok
local live = 0
if kind == 'string' then
  live = 1
elseif kind == 'hash' then
  live = 1 - redis.call('HEXISTS', key, '\\0dead')
elseif kind ~= 'none' then
  return redis.error_reply('WRONGTYPE the key holds a ' .. kind .. ', not a session')
end
${WRITE_TOMBSTONE}
return live
`,
);
