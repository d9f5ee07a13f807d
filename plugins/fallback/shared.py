"""Circuit breakers shared through Redis, so every process using the same endpoints sees the
same state: one endpoint opened by one process is skipped by all, and one probe goes out.

The state (closed, open until, a probe out until, failures in a row) lives in one Redis hash
per fallback set and changes only in one Lua script, on Redis' clock (hosts' clocks never
meet). Each process keeps a view of it, read again at most every ``refresh`` seconds, so a call
to a closed endpoint costs no round trip; an unwell outcome costs one, and so does a success
only while the shared count of failures is not zero. The error rate over the window is judged
by each process on its own attempts (when it trips, the opening is shared). When Redis does not
answer, each process keeps breakers of its own (one WARNING) and asks Redis again after
``recheck`` seconds.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Optional, Union

from chatmini.errors import InvalidRequestError
from chatmini.timeouts import seconds

from .._redis import Outage, connect, describe
from .breaker import CLOSED, HALF_OPEN, OPEN, Circuit, Clock, EndpointHealth, Settings

DEFAULT_PREFIX = "chatmini:breaker"
TTL = 86400  # seconds a set's state outlives its last change
logger = logging.getLogger("chatmini")

BREAKER_LUA = """
local key, op = KEYS[1], ARGV[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local function f(name, field) return name .. '|' .. field end
local function get(name, field, default)
  local v = redis.call('HGET', key, f(name, field))
  if v then return v end
  return default
end
local function left(name, state)
  local until_ = 0
  if state == 'open' then until_ = tonumber(get(name, 'open_until', '0'))
  elseif state == 'half-open' then until_ = tonumber(get(name, 'probe_until', '0')) end
  return math.max(until_ - now, 0)
end
local function report(name, changed)
  local state = get(name, 'state', 'closed')
  return {state, tonumber(get(name, 'consecutive', '0')), tostring(left(name, state)),
          get(name, 'reason', ''), changed}
end
if op == 'read' then
  local out = {}
  for i = 2, #ARGV do
    for _, v in ipairs(report(ARGV[i], '')) do table.insert(out, v) end
  end
  return out
end
local name = ARGV[2]
local state = get(name, 'state', 'closed')
local changed = ''
if op == 'acquire' then
  if state ~= 'closed' and left(name, state) <= 0 then
    redis.call('HSET', key, f(name, 'state'), 'half-open', f(name, 'probe_until'),
               tostring(now + tonumber(ARGV[3])))
    changed = 'half-open'
  end
elseif op == 'release' then
  if state == 'half-open' then redis.call('HSET', key, f(name, 'probe_until'), '0') end
elseif op == 'succeed' then
  redis.call('HSET', key, f(name, 'consecutive'), '0')
  if state == 'half-open' then
    redis.call('HSET', key, f(name, 'state'), 'closed', f(name, 'reopens'), '0')
    changed = 'closed'
  end
elseif op == 'fail' then
  local consecutive = redis.call('HINCRBY', key, f(name, 'consecutive'), 1)
  redis.call('HSET', key, f(name, 'reason'), ARGV[8])
  local reopens = tonumber(get(name, 'reopens', '0'))
  if state == 'half-open' then reopens = reopens + 1 end
  if state == 'half-open' or (state == 'closed' and
      (consecutive >= tonumber(ARGV[4]) or ARGV[9] == '1')) then
    local wait = tonumber(ARGV[7])
    if wait < 0 then wait = tonumber(ARGV[5]) * 2 ^ reopens end
    wait = math.min(wait, tonumber(ARGV[6]))
    redis.call('HSET', key, f(name, 'state'), 'open', f(name, 'open_until'),
               tostring(now + wait), f(name, 'reopens'), tostring(reopens))
    changed = 'open'
  end
end
redis.call('EXPIRE', key, tonumber(ARGV[10]))
return report(name, changed)
"""


class LocalCircuits:
    """The breakers of one fallback set, in this process."""

    def __init__(self, names: list[str], settings: Settings, clock: Clock = time.monotonic):
        self.circuits = {name: Circuit(name, settings, clock) for name in names}

    def ready(self, name: str) -> bool:
        return self.circuits[name].ready()

    def acquire(self, name: str) -> Optional[bool]:
        return self.circuits[name].acquire()

    def release(self, name: str) -> None:
        self.circuits[name].release()

    def record(self, name: str, failure: Optional[str], retry_after: Optional[float]
               ) -> Optional[str]:
        return self.circuits[name].record(failure, retry_after)

    def retry_in(self, name: str) -> float:
        return self.circuits[name].retry_in()

    def health(self) -> list[EndpointHealth]:
        return [circuit.health() for circuit in self.circuits.values()]


class SharedCircuits(LocalCircuits):
    """The breakers of one fallback set, shared through Redis (see the module docstring)."""

    def __init__(
        self,
        redis: Union[str, Any, None],
        names: list[str],
        settings: Settings,
        *,
        key: str,
        prefix: str = DEFAULT_PREFIX,
        timeout: float = 1.0,
        refresh: float = 1.0,
        recheck: float = 5.0,
        clock: Clock = time.monotonic,
    ) -> None:
        if timeout is None:
            raise InvalidRequestError("redis_timeout must be seconds > 0, not None")
        seconds(timeout, "redis_timeout")
        if refresh != 0:  # 0: ask Redis every time
            seconds(refresh, "refresh")
        seconds(recheck, "recheck")
        super().__init__(names, settings, clock)  # evidence, and the breakers when Redis is down
        self.redis, self._errors, self._password = connect(redis, timeout, "Fallback")
        self.where = describe(self.redis)
        self.settings = settings
        self.refresh = refresh
        self.recheck = recheck
        self.clock = clock
        self._key = f"{prefix}:{{{key}}}"
        self._script = self.redis.register_script(BREAKER_LUA)
        self._lock = threading.Lock()
        self._view: dict[str, tuple[str, int, float, str]] = {  # state, in a row, until, why
            name: (CLOSED, 0, 0.0, "") for name in names
        }
        self._read_at = float("-inf")
        self._outage = Outage(
            "the shared circuit breakers' Redis", self.where, self._password, recheck, clock,
            fallback="this process keeps breakers of its own until it does",
        )
        self.round_trips = 0

    def ready(self, name: str) -> bool:
        if self._down():
            return super().ready(name)
        self._refresh()
        state, _, until, _ = self._view[name]
        return state == CLOSED or self.clock() >= until

    def acquire(self, name: str) -> Optional[bool]:
        if self._down():
            return super().acquire(name)
        self._refresh()
        state, _, until, _ = self._view[name]
        if state == CLOSED:
            return False
        if self.clock() < until:
            return None
        reply = self._op("acquire", name)
        if reply is None:
            return super().acquire(name)
        return True if reply == HALF_OPEN else (False if self._view[name][0] == CLOSED else None)

    def release(self, name: str) -> None:
        super().release(name)
        if not self._down():
            self._op("release", name)

    def record(self, name: str, failure: Optional[str], retry_after: Optional[float]
               ) -> Optional[str]:
        local = super().record(name, failure, retry_after)  # the evidence of this process
        if self._down():
            return local
        if failure is None:
            state, consecutive, _, _ = self._view[name]
            if state == CLOSED and consecutive == 0:
                return None  # nothing to reset: no round trip
            changed = self._op("succeed", name)
        else:
            force = self.circuits[name].rate_tripped(self.clock())
            changed = self._op("fail", name, retry_after, failure, force)
        return local if changed is None else (changed or None)

    def retry_in(self, name: str) -> float:
        if self._down():
            return super().retry_in(name)
        _, _, until, _ = self._view[name]
        return max(until - self.clock(), 0.0)

    def health(self) -> list[EndpointHealth]:
        rows = super().health()
        if self._down():
            return rows
        self._refresh(force=True)
        now = self.clock()
        return [row._replace(state=state, consecutive=consecutive,
                             retry_in=max(until - now, 0.0) if state != CLOSED else 0.0,
                             last_error=why or row.last_error)
                for row, (state, consecutive, until, why) in zip(rows, self._view.values())]

    # -- Redis -------------------------------------------------------------------------------

    def _refresh(self, force: bool = False) -> None:
        """Read every endpoint's shared state when the view is older than ``refresh``; one
        thread reads while the others use the view they have."""
        if not force and self.clock() - self._read_at < self.refresh:
            return
        if not self._lock.acquire(blocking=force):
            return
        try:
            if force or self.clock() - self._read_at >= self.refresh:
                fields = self._call(["read", *self._view])
                if fields is not None:
                    now = self.clock()
                    for name, at in zip(self._view, range(0, len(fields), 5)):
                        self._take(name, fields[at:at + 5], now)
                    self._read_at = now
        finally:
            self._lock.release()

    def _op(self, op: str, name: str, retry_after: Optional[float] = None, failure: str = "",
            force: bool = False) -> Optional[str]:
        """One change to an endpoint's shared state: the state change it made ("" for none),
        None when Redis failed. A probe without a verdict frees the endpoint after the lease."""
        settings = self.settings
        fields = self._call([
            op, name, f"{settings.probe_lease:.6g}", str(settings.failures),
            f"{settings.cooldown:.6g}", f"{settings.max_cooldown:.6g}",
            "-1" if retry_after is None else f"{retry_after:.6g}", failure,
            "1" if force else "0", str(TTL),
        ])
        if fields is None:
            return None
        self._take(name, fields, self.clock())
        return fields[4]

    def _call(self, args: list[str]) -> Optional[list[str]]:
        """One script call and its reply as text; None (and fall back) when Redis failed."""
        started = self._outage.begin()
        try:
            reply = self._script(keys=[self._key], args=args)
        except self._errors as exc:
            self._outage.failed(exc)
            return None
        self._outage.answered(started)
        self.round_trips += 1
        return [_text(value) for value in reply]

    def _take(self, name: str, fields: list[str], now: float) -> None:
        state, consecutive, left, why = fields[0], int(fields[1]), float(fields[2]), fields[3]
        if state not in (CLOSED, OPEN, HALF_OPEN):
            state = CLOSED
        self._view[name] = (state, consecutive, now + left, why)

    def _down(self) -> bool:
        return self._outage.active


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
