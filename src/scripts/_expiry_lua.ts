/**
 * Lua shared by the scripts that write a session's expiry (commit, refresh,
 * replace). Their first five arguments are the same:
 *
 * ARGV[1]  the key's life in ms after the write; "-1" for no expiry; "0" deletes the session;
 *          "" leaves the key's expiry and `\0exp` as they are
 * ARGV[2]  when the session expires, in ms since the epoch (stored in `\0exp`); "" for never
 * ARGV[3]  the sliding expiry in ms to record in `\0ttl`; "" for none
 * ARGV[4]  "" when this request set the expiry itself (it changed its cookie, or wrote it whole);
 *          else "=" and the `\0ttl` it loaded: if `\0ttl` holds something else now, another
 *          request changed the session's maxAge meanwhile, and that expiry stands (renewed by
 *          the stored `\0ttl` from ARGV[5]) rather than this request's stale one
 * ARGV[5]  now, in ms since the epoch (the app's clock, as for ARGV[2])
 *
 * A script never half-writes: what could fail a command (the key's life, the time) is checked
 * before anything is written.
 *
 * The commit and refresh scripts, run by every changing or renewing request, use the inline
 * {@linkcode SETTLE_EXPIRY} and {@linkcode APPLY_EXPIRY}: no function is defined per call, and a
 * write that leaves the expiry as it is (ARGV[1] "") checks and computes nothing. The app sends
 * the expiry worked out (`src/engine/write/write_expiry.ts`); the script only compares.
 * @module
 */

/**
 * Inline, after the script read the session's `\0ttl` into the local `stored` and before it writes
 * anything: declares `pttl`, `exp`, `sliding` from ARGV[1..3] and `kept` (true when another
 * request's expiry stands, see ARGV[4]); errors out on a bad key life or time.
 */
export const SETTLE_EXPIRY = `
local pttl, exp, sliding, kept = ARGV[1], ARGV[2], ARGV[3], false
if pttl == '' then
  exp = nil
elseif pttl ~= '-1' and not (#pttl <= 16 and string.match(pttl, '^%d+$')) then
  return redis.error_reply('ERR invalid key life in ms: ' .. pttl)
end
-- ARGV[4] is "" or "=" and the \\0ttl the request loaded (61 is "=").
if string.byte(ARGV[4]) == 61 and stored and stored ~= string.sub(ARGV[4], 2) then
  kept = true
  sliding = stored
  local ms = #stored <= 16 and string.match(stored, '^%d+$') and tonumber(stored)
  if pttl ~= '' and ms and ms > 0 then
    local now = tonumber(ARGV[5])
    if not now then return redis.error_reply('ERR invalid time in ms: ' .. tostring(ARGV[5])) end
    if pttl ~= '-1' then pttl = stored end
    exp = string.format('%.0f', now + ms)
  else
    pttl, exp = '', nil -- a fixed expiry: leave it as it is
  end
end
`;

/** Inline, after the writes: gives `key` the life `pttl` settled on ("" leaves it as it is). */
export const APPLY_EXPIRY = `
if pttl == '-1' then redis.call('PERSIST', key) elseif pttl ~= '' then redis.call('PEXPIRE', key, pttl) end
`;

/**
 * Declares `pttl`, `exp`, `sliding` from ARGV[1..3] after checking ARGV[1..5]; errors out on bad ones
 * (the replace script's prelude).
 */
export const EXPIRY_ARGS = `
local function whole(text) return text ~= nil and #text <= 16 and string.match(text, '^%d+$') ~= nil end
local pttl, exp, sliding = ARGV[1], ARGV[2], ARGV[3]
-- Only the key's life can make a command fail after others wrote (PEXPIRE); exp and sliding are
-- stored as given, and now is checked where it is used, before any write.
if not (pttl == '' or pttl == '-1' or whole(pttl)) then
  return redis.error_reply('ERR invalid key life in ms: ' .. tostring(pttl))
end
if pttl == '' then exp = nil end
-- Keeps the expiry another request set since this one loaded (see ARGV[4]). Returns true when it did.
local function keep_newer_expiry(stored_sliding)
  local guard = ARGV[4]
  if string.sub(guard, 1, 1) ~= '=' or not stored_sliding or stored_sliding == string.sub(guard, 2) then
    return false
  end
  sliding = stored_sliding
  local ms = whole(stored_sliding) and tonumber(stored_sliding)
  if pttl ~= '' and ms and ms > 0 then
    local now = tonumber(ARGV[5])
    if not now then return error('ERR invalid time in ms: ' .. tostring(ARGV[5])) end
    if pttl ~= '-1' then pttl = stored_sliding end
    exp = string.format('%.0f', now + ms)
  else
    pttl, exp = '', nil -- a fixed expiry: leave it as it is
  end
  return true
end
local function apply_expiry(key)
  if pttl == '-1' then redis.call('PERSIST', key) elseif pttl ~= '' then redis.call('PEXPIRE', key, pttl) end
end
`;
