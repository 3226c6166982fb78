/**
 * The load script, for the reads a plain `HGETALL` cannot do: lock mode (take
 * the session's lock in the same round trip) and exact renewal (`renewAfter: 0`:
 * renew the sliding expiry at every read). Other reads are a plain `HGETALL`.
 *
 * KEYS[1]  the session key
 * ARGV[1]  "" to only read; else now in ms since the epoch (the app's clock): renew the expiry by the
 *          milliseconds recorded in `\0ttl` and record the new expiry in `\0exp`
 * ARGV[2]  optional: a lock token, to take the session's exclusive lock (lock mode)
 * ARGV[3]  with ARGV[2]: how long the lock lasts, in ms (Redis TIME, not the app's clock)
 * Reply    nil when the key is missing or holds a tombstone;
 *          {"locked", ms} when another token holds an unexpired lock (ms: until it expires; nothing changed);
 *          {"hash", pttl, {field1, value1, ...}} for a session hash (metadata fields included, `\0exp`
 *            as renewed);
 *          {"hash", pttl, {...}, "extend"}: not renewed, because the renewal would use up half of the
 *            headroom of the session's entry in its user's index (`\0uexp`): the write that renews it
 *            extends the entry too;
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
if ARGV[1] ~= '' and (#ARGV[1] > 16 or not string.match(ARGV[1], '^%d+$')) then
  return redis.error_reply('ERR invalid time: ' .. ARGV[1])
end
local fields = redis.pcall('HGETALL', key)
if fields.err then
  local kind = redis.call('TYPE', key).ok
  if kind == 'string' then return { 'string', redis.call('PTTL', key), redis.call('GET', key) } end
  return redis.error_reply('WRONGTYPE the key holds a ' .. kind .. ', not a session')
end
if #fields == 0 then return nil end
local sliding, lock, at, uexp
for i = 1, #fields, 2 do
  local name = fields[i]
  if string.byte(name, 1) == 0 then
    if name == '\\0dead' then return nil end
    if name == '\\0ttl' then sliding = fields[i + 1]
    elseif name == '\\0lock' then lock = fields[i + 1]
    elseif name == '\\0exp' then at = i + 1
    elseif name == '\\0uexp' then uexp = tonumber(fields[i + 1]) end
  end
end
if ARGV[2] and ARGV[2] ~= '' then
  local time = redis.call('TIME')
  local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
  if lock then
    local colon = string.find(lock, ':', 1, true)
    local deadline = tonumber(string.sub(lock, 1, colon - 1))
    if deadline > now and string.sub(lock, colon + 1) ~= ARGV[2] then return { 'locked', deadline - now } end
  end
  redis.call('HSET', key, '\\0lock', string.format('%.0f', now + tonumber(ARGV[3])) .. ':' .. ARGV[2])
end
local ms = tonumber(sliding or '')
if ARGV[1] ~= '' and ms and ms > 0 and uexp and uexp >= 0 and tonumber(ARGV[1]) + ms * 1.5 > uexp then
  return { 'hash', redis.call('PTTL', key), fields, 'extend' }
end
if ARGV[1] ~= '' and ms and ms > 0 then
  local exp = string.format('%.0f', tonumber(ARGV[1]) + ms)
  redis.call('PEXPIRE', key, ms)
  redis.call('HSET', key, '\\0exp', exp)
  if at then fields[at] = exp else fields[#fields + 1] = '\\0exp'; fields[#fields + 1] = exp end
  return { 'hash', ms, fields }
end
return { 'hash', redis.call('PTTL', key), fields }
`,
);
