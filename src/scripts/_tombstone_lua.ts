/**
 * Lua shared by the scripts that destroy a session (destroy, and destroy of a
 * user's session): ARGV[1] is how long the tombstone stays, in whole ms ("0":
 * delete without a tombstone), checked before anything is written.
 * @module
 */

import { REFUSE_IF_MIGRATING } from "./_cluster_lua.ts";

/** Errors out on a bad ARGV[1] (before any write). */
export const CHECK_TOMBSTONE_LIFE = `
if #ARGV[1] > 16 or not string.match(ARGV[1], '^%d+$') then
  return redis.error_reply('ERR invalid tombstone life in ms: ' .. ARGV[1])
end
`;

/**
 * Replaces whatever `key` holds (its type in `kind`) by a tombstone that lives
 * ARGV[1] ms. A hash gets its tombstone field first and loses its other fields
 * after, so the key never vanishes midway (see `_cluster_lua.ts`); a string has to be
 * deleted first, which a slot being migrated refuses up front (TRYAGAIN, nothing written).
 */
export const WRITE_TOMBSTONE = `
if ARGV[1] == '0' then
  redis.call('DEL', key)
elseif kind == 'hash' then
  -- The names before the tombstone field is set: all of them go once it is (none when it was set already).
  local names = redis.call('HKEYS', key)
  if redis.call('HSETNX', key, '\\0dead', '1') == 1 then
    for first = 1, #names, 4000 do redis.call('HDEL', key, unpack(names, first, math.min(first + 3999, #names))) end
  end
  redis.call('PEXPIRE', key, ARGV[1])
else
  if kind == 'string' then
    ${REFUSE_IF_MIGRATING}
    redis.call('DEL', key)
  end
  redis.call('HSET', key, '\\0dead', '1')
  redis.call('PEXPIRE', key, ARGV[1])
end
`;
