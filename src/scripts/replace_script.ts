/**
 * The replace script: writes a whole session, replacing whatever the key held
 * (a hash or a connect-redis string) unless the session was destroyed.
 *
 * KEYS[1]  the session key
 * ARGV[1..5]  the expiry, as in `_expiry_lua.ts` (ARGV[4] is ignored: a whole write sets its own;
 *          ARGV[1] "" is taken as no expiry)
 * ARGV[6..]  field, value pairs; sessions per user's `\0user`, `\0uat`, `\0uexp` come last, and a
 *          stored login time (`\0uat`) of the same user is kept: a whole write is no new login
 * Reply    "ok" written (or deleted); "dead" the session was destroyed: nothing written;
 *          an error starting "WRONGTYPE" for a key that is not a hash or string (nothing changed);
 *          an error starting "TRYAGAIN" for a string in a Redis Cluster slot being migrated away
 *          (nothing changed: retry once the key has moved).
 * A hash is rewritten in place (new fields first, then the stale ones removed), never deleted
 * first, so the key cannot vanish midway (see `_cluster_lua.ts`).
 * @module
 */

import { REFUSE_IF_MIGRATING } from "./_cluster_lua.ts";
import { EXPIRY_ARGS } from "./_expiry_lua.ts";
import { defineScript, type LuaScript } from "./script_runner.ts";

/** See the module doc for the contract. */
export const REPLACE_SCRIPT: LuaScript = defineScript(
  "replace",
  `
local key = KEYS[1]
${EXPIRY_ARGS}
local dead = redis.pcall('HEXISTS', key, '\\0dead')
if type(dead) == 'table' then
  local kind = redis.call('TYPE', key).ok
  if kind ~= 'string' then return redis.error_reply('WRONGTYPE the key holds a ' .. kind .. ', not a session') end
elseif dead == 1 then
  return 'dead'
end
-- Sessions per user: the same user written again keeps the login time it had.
local login
for i = math.max(6, #ARGV - 5), #ARGV - 1, 2 do
  if ARGV[i] == '\0uat' and type(dead) ~= 'table' then
    local stored = redis.call('HMGET', key, '\0user', '\0uat')
    for j = math.max(6, #ARGV - 5), #ARGV - 1, 2 do
      if ARGV[j] == '\0user' and stored[1] == ARGV[j + 1] and stored[2] then login = stored[2] end
    end
  end
end
if pttl == '0' then
  redis.call('DEL', key)
  return 'ok'
end
local stale
if type(dead) == 'table' then
  ${REFUSE_IF_MIGRATING}
  redis.call('DEL', key)
else
  stale = redis.call('HKEYS', key)
end
-- unpack() has a stack limit: send long lists in slices (an even size keeps pairs together).
redis.call('HSET', key, '\\0ttl', sliding, '\\0exp', exp or '', unpack(ARGV, 6, math.min(#ARGV, 4005)))
for first = 4006, #ARGV, 4000 do redis.call('HSET', key, unpack(ARGV, first, math.min(first + 3999, #ARGV))) end
if login then redis.call('HSET', key, '\0uat', login) end
if stale then
  local written = { ['\\0ttl'] = true, ['\\0exp'] = true }
  for i = 6, #ARGV - 1, 2 do written[ARGV[i]] = true end
  local gone = {}
  for _, name in ipairs(stale) do
    if not written[name] then gone[#gone + 1] = name end
  end
  for first = 1, #gone, 4000 do redis.call('HDEL', key, unpack(gone, first, math.min(first + 3999, #gone))) end
end
if pttl ~= '-1' and pttl ~= '' then redis.call('PEXPIRE', key, pttl) else redis.call('PERSIST', key) end
return 'ok'
`,
);
