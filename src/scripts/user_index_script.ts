/**
 * The user index script: updates one user's index of sessions, a sorted set
 * whose scores are the times (ms, Redis `TIME` of the index's node) after which
 * each entry may be dropped. Every call prunes the entries whose time has passed
 * and sets the key to expire with its latest entry, so an index never outlives
 * its sessions and needs no background job.
 *
 * KEYS[1]  the index key
 * ARGV[1]  what to reply: "-1" every member; "0" nothing; n > 0: when the index holds more than n
 *          members after the update, every member but ARGV[2] (else nothing)
 * ARGV[2]  a member left out of the reply ("" for none): the session logging in
 * ARGV[3..]  operations, three arguments each (additions apply before removals): "+", session id, life in ms ("-1": no expiry)
 *            adds an entry at now + life, or moves it there if that is later (a deadline never moves
 *            earlier: a renewal cannot undo what a parallel request extended); "=", session id, life sets
 *            it at now + life even if earlier (an entry without a deadline getting one); "-", session id, ""
 *            removes one
 * Reply    the members asked for, latest score first; an error starting "ERR" for bad arguments
 *          (checked before anything is written);
 *          an error starting "WRONGTYPE" when the key is not a sorted set.
 * @module
 */

import { defineScript, type LuaScript } from "./script_runner.ts";

/** See the module doc for the contract. */
export const USER_INDEX_SCRIPT: LuaScript = defineScript(
  "user index",
  `
local key = KEYS[1]
-- Every argument is checked before anything is written.
local ok = string.match(ARGV[1] or '', '^-?%d+$') ~= nil and ARGV[2] ~= nil and (#ARGV - 2) % 3 == 0
for i = 3, #ARGV, 3 do
  local life = ARGV[i + 2]
  ok = ok and (((ARGV[i] == '+' or ARGV[i] == '=') and
      (life == '-1' or (#life <= 16 and string.match(life, '^%d+$') ~= nil)))
    or (ARGV[i] == '-' and life == ''))
end
if not ok then return redis.error_reply('ERR invalid index arguments (cap, newcomer, operations)') end
local time = redis.call('TIME')
-- Microseconds keep the scores of entries written in the same millisecond apart.
local now = tonumber(time[1]) * 1000 + tonumber(time[2]) / 1000
-- Additions first, then removals, counting what is left: once the index is empty its key is
-- gone, and the script touches it no more (a Redis Cluster slot being migrated away refuses
-- commands on keys no longer on the node, which would abort the script midway).
for i = 3, #ARGV, 3 do
  if ARGV[i] ~= '-' then
    local life = tonumber(ARGV[i + 2])
    local score = life < 0 and 'inf' or string.format('%.3f', now + life)
    local old = redis.call('ZSCORE', key, ARGV[i + 1])
    if ARGV[i] == '=' or not old or (old ~= 'inf' and (score == 'inf' or tonumber(score) > tonumber(old))) then
      redis.call('ZADD', key, score, ARGV[i + 1])
    end
  end
end
local left = redis.call('ZCARD', key)
for i = 3, #ARGV, 3 do
  if left > 0 and ARGV[i] == '-' then left = left - redis.call('ZREM', key, ARGV[i + 1]) end
end
if left > 0 then left = left - redis.call('ZREMRANGEBYSCORE', key, '-inf', string.format('%.3f', now)) end
if left == 0 then return {} end
local last = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
if last[2] == 'inf' then
  redis.call('PERSIST', key)
else
  redis.call('PEXPIRE', key, math.max(1, math.ceil(tonumber(last[2]) - now)))
end
local cap = tonumber(ARGV[1])
if cap == 0 or (cap > 0 and left <= cap) then return {} end
local reply = {}
for _, member in ipairs(redis.call('ZREVRANGE', key, 0, -1)) do
  if member ~= ARGV[2] then reply[#reply + 1] = member end
end
return reply
`,
);
