/**
 * The load script: reads a session and renews its sliding expiry in the same
 * round trip, so a request that only reads its session costs one command.
 *
 * KEYS[1]  the session key
 * ARGV[1]  "1" to renew the expiry by the milliseconds recorded in the `\0ttl` field, "0" to only read
 * ARGV[2]  optional: a lock token, to take the session's exclusive lock (lock mode)
 * ARGV[3]  with ARGV[2]: how long the lock lasts, in ms (Redis TIME, not the app's clock)
 * Reply    nil when the key is missing or holds a tombstone;
 *          {"locked", ms} when another token holds an unexpired lock (ms: until it expires; nothing changed);
 *          {"hash", pttl, field1, value1, ...} for a session hash (metadata fields included);
 *          {"string", pttl, value} for a plain string value (connect-redis's format);
 *          an error starting "WRONGTYPE" for a key of any other type (nothing is changed).
 *          pttl is the key's remaining life in ms after any renewal (-1: no expiry).
 * @module
 */

import { defineScript, type LuaScript } from "./script_runner.ts";

/** See the module doc for the contract. */
export const LOAD_SCRIPT: LuaScript = defineScript(
  "load",
  `
local key = KEYS[1]
local kind = redis.call('TYPE', key).ok
if kind == 'hash' then
  local meta = redis.call('HMGET', key, '\\0dead', '\\0ttl')
  if meta[1] then return nil end
  if ARGV[2] and ARGV[2] ~= '' then
    local time = redis.call('TIME')
    local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
    local held = redis.call('HGET', key, '\\0lock')
    if held then
      local colon = string.find(held, ':', 1, true)
      local deadline = tonumber(string.sub(held, 1, colon - 1))
      if deadline > now and string.sub(held, colon + 1) ~= ARGV[2] then return { 'locked', deadline - now } end
    end
    redis.call('HSET', key, '\\0lock', string.format('%.0f', now + tonumber(ARGV[3])) .. ':' .. ARGV[2])
  end
  if ARGV[1] == '1' and meta[2] and meta[2] ~= '' then redis.call('PEXPIRE', key, meta[2]) end
  local reply = { 'hash', redis.call('PTTL', key) }
  local fields = redis.call('HGETALL', key)
  for i = 1, #fields do reply[i + 2] = fields[i] end
  return reply
elseif kind == 'string' then
  return { 'string', redis.call('PTTL', key), redis.call('GET', key) }
elseif kind == 'none' then
  return nil
end
return redis.error_reply('WRONGTYPE the key holds a ' .. kind .. ', not a session')
`,
);
