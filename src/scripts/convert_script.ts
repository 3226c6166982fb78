/**
 * The convert script: turns a session stored by connect-redis (one JSON string)
 * into the store's hash, only if the string is still exactly what the request
 * loaded. Parallel requests on an unconverted session thus agree on one base and
 * commit field by field against it, as on any hash: nothing is lost and a
 * destroyed session (a tombstone hash) is never turned back into a session.
 *
 * KEYS[1]  the session key
 * ARGV[1]  the string the request loaded
 * ARGV[2]  now, in ms since the epoch (the app's clock), to record the key's expiry in `\0exp`
 * ARGV[3]  the sliding expiry in ms to record in `\0ttl` ("" for none)
 * ARGV[4..]  the loaded session as field, value pairs (each property serialized on its own)
 * Reply    "converted" the string was replaced by the hash, keeping the key's expiry;
 *          "other" the key is no string (converted already, destroyed, or missing): nothing changed;
 *          {"changed", value} the string is not what the request loaded: nothing changed.
 * @module
 */

import { defineScript, type LuaScript } from "./script_runner.ts";

/** See the module doc for the contract. */
export const CONVERT_SCRIPT: LuaScript = defineScript(
  "convert",
  `
local key = KEYS[1]
if #ARGV[2] > 16 or not string.match(ARGV[2], '^%d+$') or not (ARGV[3] == '' or string.match(ARGV[3], '^%d+$')) then
  return redis.error_reply('ERR invalid arguments (now, sliding): ' .. ARGV[2] .. ', ' .. ARGV[3])
end
if redis.call('TYPE', key).ok ~= 'string' then return 'other' end
local current = redis.call('GET', key)
if current ~= ARGV[1] then return { 'changed', current } end
local pttl = redis.call('PTTL', key)
local exp = ''
if pttl > 0 then exp = string.format('%.0f', tonumber(ARGV[2]) + pttl) end
redis.call('DEL', key)
redis.call('HSET', key, '\\0ttl', ARGV[3], '\\0exp', exp, unpack(ARGV, 4, math.min(#ARGV, 4003)))
for first = 4004, #ARGV, 4000 do redis.call('HSET', key, unpack(ARGV, first, math.min(first + 3999, #ARGV))) end
if pttl > 0 then redis.call('PEXPIRE', key, pttl) end
return 'converted'
`,
);
