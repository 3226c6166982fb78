/**
 * The commit script: an optimistic compare-and-set of the fields a request changed.
 * Every checked field must still hold the value the request loaded; then all
 * changes are written at once, else nothing is written and the current values
 * come back for a merge. On every changing request's path, so it is lean: one HMGET
 * reads the metadata and every checked field, one HSET and one HDEL write.
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

import { EXPIRY_ARGS } from "./_expiry_lua.ts";
import { defineScript, type LuaScript } from "./script_runner.ts";

/** See the module doc for the contract. */
export const COMMIT_SCRIPT: LuaScript = defineScript(
  "commit",
  `
local key = KEYS[1]
${EXPIRY_ARGS}
local kinds = ARGV[6]
local n = #kinds
local token = ARGV[3 * n + 7]
-- unpack() has a stack limit: send long lists in slices.
local function sliced(command, args)
  for first = 1, #args, 4000 do
    redis.call(command, key, unpack(args, first, math.min(first + 3999, #args)))
  end
end
local names = { '\\0dead', '\\0ttl', '\\0lock', '\\0exp' }
for i = 1, n do names[i + 4] = ARGV[3 * i + 4] end
local current = redis.pcall('HMGET', key, unpack(names, 1, math.min(#names, 4000)))
if current.err then
  local kind = redis.call('TYPE', key).ok
  if kind == 'string' then return { 'gone' } end
  return redis.error_reply('WRONGTYPE the key holds a ' .. kind .. ', not a session')
end
for i = 4001, #names do current[i] = redis.call('HGET', key, names[i]) end
if current[1] then return { 'dead' } end
if not current[2] then return { 'gone' } end
local reply = { 'conflict' }
for i = 1, n do
  local change = string.sub(kinds, i, i)
  if change ~= 'w' then
    local value = current[i + 4]
    if (change == 'a' and value) or (change ~= 'a' and value ~= ARGV[3 * i + 5]) then
      reply[#reply + 1] = i
      reply[#reply + 1] = value and '1' or '0'
      reply[#reply + 1] = value or ''
    end
  end
end
if #reply > 1 then return reply end
local kept = keep_newer_expiry(current[2])
if pttl == '0' then
  redis.call('DEL', key)
  return { 'ok' }
end
local sets, removals = {}, {}
if current[2] ~= sliding then sets[1] = '\\0ttl'; sets[2] = sliding end
if exp and current[4] ~= exp then sets[#sets + 1] = '\\0exp'; sets[#sets + 1] = exp end
for i = 1, n do
  if string.sub(kinds, i, i) == 'r' then
    removals[#removals + 1] = ARGV[3 * i + 4]
  else
    sets[#sets + 1] = ARGV[3 * i + 4]
    sets[#sets + 1] = ARGV[3 * i + 6]
  end
end
if token and token ~= '' and current[3] and string.sub(current[3], -#token - 1) == ':' .. token then
  removals[#removals + 1] = '\\0lock'
end
sliced('HSET', sets)
sliced('HDEL', removals)
apply_expiry(key)
if kept then return { 'ok', sliding, exp or current[4] or '' } end
return { 'ok' }
`,
);
