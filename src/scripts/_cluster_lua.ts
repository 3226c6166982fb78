/**
 * Lua shared by the scripts that must turn a string (connect-redis's format) into
 * a hash: Redis can only do that with DEL then HSET. In a Redis Cluster slot
 * being migrated to another node, a command on a key that is no longer on the node
 * is refused, so the HSET after the DEL would fail and abort the script with the
 * key gone (scripts are not rolled back). Such a script therefore checks first and
 * answers TRYAGAIN, having written nothing; the store retries it until the key has
 * moved (the target node then runs it). Everywhere else the scripts write before
 * they remove, so their key never vanishes midway.
 * @module
 */

/**
 * Returns a TRYAGAIN error (nothing written) when `key`'s slot is being migrated
 * away from this node. Costs two CLUSTER calls on a cluster, one failed call elsewhere:
 * only the string paths use it.
 */
export const REFUSE_IF_MIGRATING = `
local slot = redis.pcall('CLUSTER', 'KEYSLOT', key)
if type(slot) == 'number' then
  local nodes = redis.call('CLUSTER', 'NODES')
  local mine = string.match(nodes, '[^\\n]*myself[^\\n]*') or ''
  if string.find(mine, '[' .. slot .. '->-', 1, true) then
    return redis.error_reply('TRYAGAIN slot ' .. slot .. ' is being migrated: retry once the session has moved')
  end
end
`;
