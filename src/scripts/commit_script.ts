/**
 * The commit script: an optimistic compare-and-set of the fields a request changed.
 * Every checked field must still hold the value the request loaded; then all
 * changes are written at once, else nothing is written and the current values
 * come back for a merge.
 *
 * KEYS[1]  the session key
 * ARGV[1]  the key's life in ms after the write; "-1" for no expiry; "0" deletes the session
 * ARGV[2]  the sliding expiry in ms to record in `\0ttl` ("" for none)
 * ARGV[3]  one letter per change: "u" update and "r" remove (field must hold base),
 *          "a" add (field must be absent), "w" write unchecked
 * ARGV[3i+1], ARGV[3i+2], ARGV[3i+3]  change i's field, base and new value ("" where unused)
 * ARGV[3n+4]  optional, after the n changes: a lock token; a successful write releases the lock it holds
 * Reply    {"ok"} written;
 *          {"dead"} the session was destroyed: nothing written;
 *          {"gone"} the key is missing or not a hash: nothing written (the caller rewrites it whole);
 *          {"conflict", i, present, value, ...} for each change i whose check failed:
 *            present "1" with the field's current value, or "0" and "" when it is absent;
 *          an error starting "WRONGTYPE" for a key that is not a hash or string.
 * @module
 */

import { defineScript, type LuaScript } from "./script_runner.ts";

/** See the module doc for the contract. */
export const COMMIT_SCRIPT: LuaScript = defineScript(
  "commit",
  `
local key = KEYS[1]
local kind = redis.call('TYPE', key).ok
if kind == 'none' or kind == 'string' then return { 'gone' } end
if kind ~= 'hash' then return redis.error_reply('WRONGTYPE the key holds a ' .. kind .. ', not a session') end
if redis.call('HEXISTS', key, '\\0dead') == 1 then return { 'dead' } end
local kinds = ARGV[3]
local reply = { 'conflict' }
for i = 1, #kinds do
  local change = string.sub(kinds, i, i)
  if change ~= 'w' then
    local current = redis.call('HGET', key, ARGV[3 * i + 1])
    if (change == 'a' and current) or (change ~= 'a' and current ~= ARGV[3 * i + 2]) then
      reply[#reply + 1] = i
      reply[#reply + 1] = current and '1' or '0'
      reply[#reply + 1] = current or ''
    end
  end
end
if #reply > 1 then return reply end
if ARGV[1] == '0' then
  redis.call('DEL', key)
  return { 'ok' }
end
for i = 1, #kinds do
  if string.sub(kinds, i, i) == 'r' then
    redis.call('HDEL', key, ARGV[3 * i + 1])
  else
    redis.call('HSET', key, ARGV[3 * i + 1], ARGV[3 * i + 3])
  end
end
redis.call('HSET', key, '\\0ttl', ARGV[2])
local token = ARGV[3 * #kinds + 4]
if token and token ~= '' then
  local held = redis.call('HGET', key, '\\0lock')
  if held and string.sub(held, -#token - 1) == ':' .. token then redis.call('HDEL', key, '\\0lock') end
end
if ARGV[1] == '-1' then redis.call('PERSIST', key) else redis.call('PEXPIRE', key, ARGV[1]) end
return { 'ok' }
`,
);
