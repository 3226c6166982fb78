/**
 * The user destroy script: the destroy script's tombstone, told whose session
 * it destroyed (for removing it from that user's index), and able to spare
 * sessions that belong to someone else.
 *
 * KEYS[1]  the session key
 * ARGV[1]  how long the tombstone stays, in whole ms ("0": delete without a tombstone); checked
 *          before anything is written
 * ARGV[2]  the user whose sessions are being destroyed ("" for any session)
 * ARGV[3]  with a user: "strict" to destroy only a live session of that user; otherwise also a
 *          session of no user, or a missing key (a login of that user whose write has not landed
 *          yet: its tombstone stops it), and only a live session of another user is spared
 * Reply    {done, live, user}: done 1 when the key was replaced by a tombstone (or deleted), 0 when
 *          it was spared; live 1 when it held a live session; user the `\0user` of that session ("" none);
 *          an error starting "WRONGTYPE" for a key that is not a hash or string (nothing deleted);
 *          an error starting "TRYAGAIN" for a string in a Redis Cluster slot being migrated away
 *          (nothing deleted: retry once the key has moved).
 * @module
 */

import { CHECK_TOMBSTONE_LIFE, WRITE_TOMBSTONE } from "./_tombstone_lua.ts";
import { defineScript, type LuaScript } from "./script_runner.ts";

/** See the module doc for the contract. */
export const USER_DESTROY_SCRIPT: LuaScript = defineScript(
  "user destroy",
  `
local key = KEYS[1]
${CHECK_TOMBSTONE_LIFE}
local kind = redis.call('TYPE', key).ok
local live, user = 0, ''
if kind == 'string' then
  live = 1
elseif kind == 'hash' then
  local fields = redis.call('HMGET', key, '\\0dead', '\\0user')
  if not fields[1] then live = 1; user = fields[2] or '' end
elseif kind ~= 'none' then
  return redis.error_reply('WRONGTYPE the key holds a ' .. kind .. ', not a session')
end
local owner = ARGV[2]
if owner ~= '' and user ~= owner and ((live == 1 and user ~= '') or ARGV[3] == 'strict') then
  return { 0, live, user }
end
${WRITE_TOMBSTONE}
return { 1, live, user }
`,
);
