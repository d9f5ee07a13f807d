"""The shared limiter's Lua script: one atomic call that settles finished requests, renews
leases and reserves the next request's turn, on Redis' clock (``TIME``), not the callers'.

State of one budget (keys share a ``{hash tag}``, so they live on one Redis Cluster node):

- ``<name>:state``, a hash: ``req`` and ``tok``, when the next request and the next token may
  be spent (GCRA virtual times, as ``chatmini.plugins._budget.Pacer``), ``cool`` the end of a
  shared cool-down, ``full`` when an acquire last found every slot taken; Redis seconds since
  the epoch.
- ``<name>:slots``, a sorted set of concurrency leases scored by expiry; expired ones are
  removed before slots are counted, so a killed worker's slots come back by themselves.
"""

from __future__ import annotations

# ARGV: 1 requests/s (0: none), 2 tokens/s (0: none), 3 max concurrent (0: none), 4 lease
# seconds, 5 horizon seconds, 6 "1" to acquire, 7 its tokens, 8 its lease id, 9 settlement
# count n, then n triples (lease id or "", token delta, cool-down seconds), then a count m
# and m lease ids to renew. Returns {status, wait, cool left, contended, turn}: status 1 reserved
# (wait: seconds until its turn, at most the horizon), 0 not now (wait: seconds until the
# soonest lease expires, or until the turn is within the horizon: refunds may bring it
# closer), 2 nothing acquired; contended is 1 when some acquire found every slot taken in the
# last second; turn is the seconds until the request's turn, a slot aside (0 when not acquiring).
LIMIT_LUA = """
if redis.replicate_commands then pcall(redis.replicate_commands) end
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state, slots = KEYS[1], KEYS[2]
local rps, tps = tonumber(ARGV[1]), tonumber(ARGV[2])
local maxc, ttl, horizon = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local function fmt(x) return string.format('%.6f', x) end
local st = redis.call('HMGET', state, 'req', 'tok', 'cool', 'full')
local req, tok, cool = tonumber(st[1]) or 0, tonumber(st[2]) or 0, tonumber(st[3]) or 0
local full = tonumber(st[4]) or 0
local i = 10
for _ = 1, tonumber(ARGV[9]) do
  local lease, delta, pause = ARGV[i], tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2])
  if lease ~= '' then redis.call('ZREM', slots, lease) end
  if delta ~= 0 and tps > 0 then tok = math.max(math.max(tok, now) + delta / tps, now) end
  if pause > 0 and now + pause > cool then cool = now + pause end
  i = i + 3
end
local renew = tonumber(ARGV[i])
for j = i + 1, i + renew do
  local expiry = tonumber(redis.call('ZSCORE', slots, ARGV[j]))
  if expiry and expiry < now + ttl then redis.call('ZADD', slots, fmt(now + ttl), ARGV[j]) end
end
local status, wait, turn = 2, 0, 0
if ARGV[6] == '1' then
  status = 1
  if maxc > 0 then
    redis.call('ZREMRANGEBYSCORE', slots, '-inf', fmt(now))
    if redis.call('ZCARD', slots) >= maxc then
      local first = redis.call('ZRANGE', slots, 0, 0, 'WITHSCORES')
      status, wait, full = 0, tonumber(first[2]) - now, now
    end
  end
  local start = math.max(now, cool)
  if rps > 0 and req > start then start = req end
  if tps > 0 and tok > start then start = tok end
  turn = start - now
  if status == 1 and start - now > horizon then status, wait = 0, start - now - horizon end
  if status == 1 then
    if rps > 0 then req = start + 1 / rps end
    local cost = tonumber(ARGV[7])
    if tps > 0 and cost > 0 then tok = start + cost / tps end
    if maxc > 0 then
      redis.call('ZADD', slots, fmt(start + ttl), ARGV[8])
      redis.call('EXPIRE', slots, math.ceil(start - now + ttl) + 60)
    end
    wait = start - now
  end
end
redis.call('HSET', state, 'req', fmt(req), 'tok', fmt(tok), 'cool', fmt(cool), 'full', fmt(full))
redis.call('EXPIRE', state, math.ceil(math.max(req, tok, cool, now) - now) + 600)
return {status, fmt(wait), fmt(cool - now), (now - full < 1.0) and 1 or 0, fmt(turn)}

"""

NOT_NOW = 0  # the status of an acquire told to ask again later
