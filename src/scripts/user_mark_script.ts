/**
 * The user mark script: records in a session hash until when its user's index
 * keeps it (`\0uexp`), after the store extended that entry, so that later loads
 * know when to extend it again.
 *
 * KEYS[1]  the session key
 * ARGV[1]  the user the session must still belong to
 * ARGV[2]  the entry's deadline, in ms since the epoch ("-1": none)
 * Reply    1 recorded; 0 the key is not a live session of that user (nothing written)
 * @module
 */

import { defineScript, type LuaScript } from "./script_runner.ts";

/** See the module doc for the contract. */
export const USER_MARK_SCRIPT: LuaScript = defineScript(
  "user mark",
  `
local key = KEYS[1]
if redis.call('TYPE', key).ok ~= 'hash' then return 0 end
local fields = redis.call('HMGET', key, '\\0dead', '\\0user')
if fields[1] or fields[2] ~= ARGV[1] then return 0 end
redis.call('HSET', key, '\\0uexp', ARGV[2])
return 1
`,
);
