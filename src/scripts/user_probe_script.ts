/**
 * The user probe script: tells whether a session listed in a user's index is a
 * live session of that user, and what an account page shows of it. Reads only.
 *
 * KEYS[1]  the session key
 * ARGV[1]  the user
 * Reply    {"live", pttl, sliding, loggedInAt}: a live session hash of that user (pttl: the key's
 *            remaining life in ms, -1 for none; sliding: its `\0ttl` or ""; loggedInAt: its `\0uat` or "");
 *          {"dead"}: a tombstone (destroyed: it cannot come back while the tombstone stays);
 *          {"none"}: no key (expired, evicted, or a login whose write has not landed yet);
 *          {"other"}: a session of another user or of none, or a key that is not a session hash.
 * @module
 */

import { defineScript, type LuaScript } from "./script_runner.ts";

/** See the module doc for the contract. */
export const USER_PROBE_SCRIPT: LuaScript = defineScript(
  "user probe",
  `
local key = KEYS[1]
local kind = redis.call('TYPE', key).ok
if kind == 'none' then return { 'none' } end
if kind ~= 'hash' then return { 'other' } end
local fields = redis.call('HMGET', key, '\\0dead', '\\0user', '\\0ttl', '\\0uat')
if fields[1] then return { 'dead' } end
if fields[2] ~= ARGV[1] then return { 'other' } end
return { 'live', redis.call('PTTL', key), fields[3] or '', fields[4] or '' }
`,
);
