/**
 * The release script: gives up a session's exclusive lock (lock mode) when the
 * request holding it ends without a commit or touch.
 *
 * KEYS[1]  the session key
 * ARGV[1]  the lock token
 * Reply    1 released; 0 the lock was not held by this token (expired, taken over, or no session)
 * @module
 */

import { defineScript, type LuaScript } from "./script_runner.ts";

/** See the module doc for the contract. */
export const RELEASE_SCRIPT: LuaScript = defineScript(
  "release",
  `
local held = redis.pcall('HGET', KEYS[1], '\\0lock')
-- A string when held; false when not; an error table when the key is not a hash.
if type(held) == 'string' and string.sub(held, -#ARGV[1] - 1) == ':' .. ARGV[1] then
  redis.call('HDEL', KEYS[1], '\\0lock')
  return 1
end
return 0
`,
);
