/**
 * The commit script: an optimistic compare-and-set of the fields a request changed.
 * Every checked field must still hold the value the request loaded; then all
 * changes are written at once, else nothing is written and the current values
 * come back for a merge. On every changing request's path, so it is lean: no function
 * defined per call, no table built for the common change of one field; one HMGET reads
 * the tombstone, `\0ttl` and every changed field, one HSET writes (one HDEL removes, one
 * PEXPIRE renews when the request renews). A change of one property that keeps the expiry
 * is one HMGET and one HSET, nothing else. bench/script_bench.ts measures it against a
 * script that does nothing.
 *
 * KEYS[1]  the session key
 * ARGV[1..5]  the expiry, as in `_expiry_lua.ts`
 * ARGV[6]  one letter per change: "u" update and "r" remove (field must hold base),
 *          "a" add (field must be absent), "w" write unchecked
 * ARGV[3i+4], ARGV[3i+5], ARGV[3i+6]  change i's field, base and new value ("" where unused)
 * ARGV[3n+7]  optional, after the n changes: a lock token; a successful write releases the lock it holds
 * Reply    {"ok"} written with this request's expiry;
 *          {"ok", sliding, exp} written, keeping the expiry another request set meanwhile
 *            (exp as stored when the key's expiry was left as it was);
 *          {"dead"} the session was destroyed: nothing written;
 *          {"gone"} the key is missing, a string, or a hash without `\0ttl` (every session hash the store
 *            writes has that field): nothing written (the caller decides whether to rewrite it whole);
 *          {"conflict", i, present, value, ...} for each change i whose check failed:
 *            present "1" with the field's current value, or "0" and "" when it is absent;
 *          an error starting "WRONGTYPE" for a key that is not a hash or string.
 * @module
 */

import { APPLY_EXPIRY, SETTLE_EXPIRY } from "./_expiry_lua.ts";
import { defineScript, type LuaScript } from "./script_runner.ts";

/** See the module doc for the contract. */
export const COMMIT_SCRIPT: LuaScript = defineScript(
  "commit",
  `
local key = KEYS[1]
local kinds = ARGV[6]
local n = #kinds
local token = ARGV[3 * n + 7]
if token == '' then token = nil end
-- One HMGET: \\0dead, \\0ttl, then the changed fields (change i at i + 2), then \\0lock with a token.
local current
if n == 1 and not token then
  current = redis.pcall('HMGET', key, '\\0dead', '\\0ttl', ARGV[7])
else
  local names = { '\\0dead', '\\0ttl' }
  for i = 1, n do names[i + 2] = ARGV[3 * i + 4] end
  if token then names[n + 3] = '\\0lock' end
  -- unpack() has a stack limit: the names past the first 4000 are read one by one.
  current = redis.pcall('HMGET', key, unpack(names, 1, math.min(#names, 4000)))
  if not current.err then
    for i = 4001, #names do current[i] = redis.call('HGET', key, names[i]) end
  end
end
if current.err then
  local kind = redis.call('TYPE', key).ok
  if kind == 'string' then return { 'gone' } end
  return redis.error_reply('WRONGTYPE the key holds a ' .. kind .. ', not a session')
end
if current[1] then return { 'dead' } end
local stored = current[2]
if not stored then return { 'gone' } end
-- Every checked field must hold its base ("a": be absent); 119 is "w", 97 "a", 114 "r".
local reply
for i = 1, n do
  local change = string.byte(kinds, i)
  if change ~= 119 then
    local value = current[i + 2]
    if (change == 97 and value) or (change ~= 97 and value ~= ARGV[3 * i + 5]) then
      reply = reply or { 'conflict' }
      reply[#reply + 1] = i
      reply[#reply + 1] = value and '1' or '0'
      reply[#reply + 1] = value or ''
    end
  end
end
if reply then return reply end
${SETTLE_EXPIRY}
if pttl == '0' then
  redis.call('DEL', key)
  return { 'ok' }
end
if n == 1 and not token and not exp and stored == sliding and kinds ~= 'r' then
  redis.call('HSET', key, ARGV[7], ARGV[9])
else
  local sets, removals = {}, {}
  if stored ~= sliding then sets[1] = '\\0ttl'; sets[2] = sliding end
  if exp then sets[#sets + 1] = '\\0exp'; sets[#sets + 1] = exp end
  for i = 1, n do
    if string.byte(kinds, i) == 114 then
      removals[#removals + 1] = ARGV[3 * i + 4]
    else
      sets[#sets + 1] = ARGV[3 * i + 4]
      sets[#sets + 1] = ARGV[3 * i + 6]
    end
  end
  local held = token and current[n + 3]
  if held and string.sub(held, -#token - 1) == ':' .. token then removals[#removals + 1] = '\\0lock' end
  for first = 1, #sets, 4000 do
    redis.call('HSET', key, unpack(sets, first, math.min(first + 3999, #sets)))
  end
  for first = 1, #removals, 4000 do
    redis.call('HDEL', key, unpack(removals, first, math.min(first + 3999, #removals)))
  end
end
${APPLY_EXPIRY}
if kept then return { 'ok', sliding, exp or redis.call('HGET', key, '\\0exp') or '' } end
return { 'ok' }
`,
);
