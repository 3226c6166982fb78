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
 * ARGV[4]  "" to keep the key's expiry; else a renewal folded into the conversion: the key's new life in ms
 * ARGV[5]  with ARGV[4]: when the session then expires, in ms since the epoch
 * ARGV[6..]  the loaded session as field, value pairs (each property serialized on its own)
 * Reply    "converted" the string was replaced by the hash, keeping the key's expiry or renewing it;
 *          "other" the key is no string (converted already, destroyed, or missing): nothing changed;
 *          {"changed", value} the string is not what the request loaded: nothing changed;
 *          an error starting "TRYAGAIN" in a Redis Cluster slot being migrated away (nothing changed:
 *          a string becomes a hash only through DEL then HSET, which such a slot would refuse midway).
 * @module
 */

import { REFUSE_IF_MIGRATING } from "./_cluster_lua.ts";
import { defineScript, type LuaScript } from "./script_runner.ts";

/** See the module doc for the contract. */
export const CONVERT_SCRIPT: LuaScript = defineScript(
  "convert",
  `
local key = KEYS[1]
local function whole(text) return #text <= 16 and string.match(text, '^%d+$') ~= nil end
if not whole(ARGV[2]) or not (ARGV[3] == '' or whole(ARGV[3])) or not (ARGV[4] == '' or whole(ARGV[4]))
  or not (ARGV[4] == '' or whole(ARGV[5])) then
  return redis.error_reply('ERR invalid arguments (now, sliding, pttl, exp): ' ..
    ARGV[2] .. ', ' .. ARGV[3] .. ', ' .. ARGV[4] .. ', ' .. ARGV[5])
end
if redis.call('TYPE', key).ok ~= 'string' then return 'other' end
local current = redis.call('GET', key)
if current ~= ARGV[1] then return { 'changed', current } end
local pttl, exp = redis.call('PTTL', key), ''
if ARGV[4] ~= '' and ARGV[4] ~= '0' then
  pttl, exp = tonumber(ARGV[4]), ARGV[5]
elseif pttl > 0 then
  exp = string.format('%.0f', tonumber(ARGV[2]) + pttl)
end
${REFUSE_IF_MIGRATING}
redis.call('DEL', key)
redis.call('HSET', key, '\\0ttl', ARGV[3], '\\0exp', exp, unpack(ARGV, 6, math.min(#ARGV, 4005)))
for first = 4006, #ARGV, 4000 do redis.call('HSET', key, unpack(ARGV, first, math.min(first + 3999, #ARGV))) end
if pttl > 0 then redis.call('PEXPIRE', key, pttl) end
return 'converted'
`,
);

/**
 * The convert script's arguments.
 * @param text The string the request loaded.
 * @param fields The loaded session, serialized per field.
 * @param sliding The sliding expiry to record ("" for none).
 * @param renewal A renewal to fold into the conversion, or `undefined` to keep the key's expiry.
 * @returns ARGV.
 */
export function convertArgs(
  text: string,
  fields: ReadonlyMap<string, string>,
  sliding: string,
  renewal?: { pttl: number; at: number | undefined },
): string[] {
  const renew = renewal !== undefined && renewal.pttl > 0 && renewal.at !== undefined;
  const args = [
    text,
    String(Date.now()),
    sliding,
    renew ? String(renewal.pttl) : "",
    renew ? String(renewal.at) : "",
  ];
  for (const [field, value] of fields) args.push(field, value);
  return args;
}
