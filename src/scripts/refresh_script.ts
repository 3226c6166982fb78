/**
 * The refresh script: renews a live session's expiry and stores its current
 * cookie, for the touches the load could not do ahead of time.
 *
 * KEYS[1]  the session key
 * ARGV[1]  the key's life in ms; "-1" for no expiry; "0" deletes the session (its cookie expired)
 * ARGV[2]  the sliding expiry in ms to record in `\0ttl` ("" for none)
 * ARGV[3], ARGV[4]  optional: the cookie's field name and value to store ("" name: none)
 * ARGV[5]  optional: a lock token whose lock to release
 * Reply    1 refreshed; 0 missing or destroyed: nothing written;
 *          an error starting "WRONGTYPE" for a key that is not a hash or string.
 * @module
 */

import { defineScript, type LuaScript } from "./script_runner.ts";

/** See the module doc for the contract. */
export const REFRESH_SCRIPT: LuaScript = defineScript(
  "refresh",
  `
local key = KEYS[1]
local kind = redis.call('TYPE', key).ok
if kind == 'none' then return 0 end
if kind == 'hash' then
  if redis.call('HEXISTS', key, '\\0dead') == 1 then return 0 end
  if ARGV[3] and ARGV[3] ~= '' then redis.call('HSET', key, ARGV[3], ARGV[4]) end
  if ARGV[5] and ARGV[5] ~= '' then
    local held = redis.call('HGET', key, '\\0lock')
    if held and string.sub(held, -#ARGV[5] - 1) == ':' .. ARGV[5] then redis.call('HDEL', key, '\\0lock') end
  end
  redis.call('HSET', key, '\\0ttl', ARGV[2])
elseif kind ~= 'string' then
  return redis.error_reply('WRONGTYPE the key holds a ' .. kind .. ', not a session')
end
if ARGV[1] == '0' then
  redis.call('DEL', key)
elseif ARGV[1] == '-1' then
  redis.call('PERSIST', key)
else
  redis.call('PEXPIRE', key, ARGV[1])
end
return 1
`,
);
