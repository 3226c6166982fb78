/**
 * The refresh script: renews a live session's expiry and stores its current
 * cookie, for the touches that have something to write (a renewal that fell
 * due, a changed cookie, a lock to give up).
 *
 * KEYS[1]  the session key
 * ARGV[1..5]  the expiry, as in `_expiry_lua.ts`
 * ARGV[6], ARGV[7]  the cookie's field name and value to store ("" name: none)
 * ARGV[8]  optional: a lock token whose lock to release ("" for none)
 * ARGV[9..]  optional: more field, value pairs to store (metadata: sessions per user's `\0uexp`)
 * Reply    1 refreshed; 0 missing or destroyed: nothing written;
 *          {1, sliding, exp} refreshed, keeping the expiry another request set meanwhile;
 *          an error starting "WRONGTYPE" for a key that is not a hash or string.
 *          A string value (connect-redis's format) only has its key's expiry renewed.
 * @module
 */

import { APPLY_EXPIRY, SETTLE_EXPIRY } from "./_expiry_lua.ts";
import { defineScript, type LuaScript } from "./script_runner.ts";

/** See the module doc for the contract. */
export const REFRESH_SCRIPT: LuaScript = defineScript(
  "refresh",
  `
local key = KEYS[1]
local current = redis.pcall('HMGET', key, '\\0dead', '\\0ttl', '\\0lock')
local stored, legacy
if current.err then
  local kind = redis.call('TYPE', key).ok
  if kind ~= 'string' then return redis.error_reply('WRONGTYPE the key holds a ' .. kind .. ', not a session') end
  legacy = true
else
  if current[1] then return 0 end
  stored = current[2]
  if not stored and redis.call('EXISTS', key) == 0 then return 0 end
end
${SETTLE_EXPIRY}
if pttl == '0' then
  redis.call('DEL', key)
  return 1
end
if not legacy then
  local sets = {}
  if ARGV[6] ~= '' then sets[1] = ARGV[6]; sets[2] = ARGV[7] end
  for i = 9, #ARGV - 1, 2 do sets[#sets + 1] = ARGV[i]; sets[#sets + 1] = ARGV[i + 1] end
  if stored ~= sliding then sets[#sets + 1] = '\\0ttl'; sets[#sets + 1] = sliding end
  if exp then sets[#sets + 1] = '\\0exp'; sets[#sets + 1] = exp end
  if #sets > 0 then redis.call('HSET', key, unpack(sets)) end
  local token, held = ARGV[8], current[3]
  if token and token ~= '' and held and string.sub(held, -#token - 1) == ':' .. token then
    redis.call('HDEL', key, '\\0lock')
  end
end
${APPLY_EXPIRY}
if kept then return { 1, sliding, exp or redis.call('HGET', key, '\\0exp') or '' } end
return 1
`,
);
