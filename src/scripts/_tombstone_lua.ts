/**
 * Lua shared by the scripts that destroy a session (destroy, and destroy of a
 * user's session): ARGV[1] is how long the tombstone stays, in whole ms ("0":
 * delete without a tombstone), checked before anything is written.
 * @module
 */

/** Errors out on a bad ARGV[1] (before any write). */
export const CHECK_TOMBSTONE_LIFE = `
if #ARGV[1] > 16 or not string.match(ARGV[1], '^%d+$') then
  return redis.error_reply('ERR invalid tombstone life in ms: ' .. ARGV[1])
end
`;

/** Replaces whatever `key` holds by a tombstone that lives ARGV[1] ms. */
export const WRITE_TOMBSTONE = `
redis.call('DEL', key)
if ARGV[1] ~= '0' then
  redis.call('HSET', key, '\\0dead', '1')
  redis.call('PEXPIRE', key, ARGV[1])
end
`;
