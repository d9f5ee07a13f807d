"""One rate-limit budget shared through Redis by every process and machine using an account:
``Client(plugins=[RedisRateLimiter("redis://host:6379/0", rpm=500, tpm=200_000, key="acct")])``.

The budgets and hooks are RateLimiter's (same token estimate, usage correction, header and 429
handling); only the store differs. Needs ``pip install 'chatmini[redis]'`` (redis-py), which is
imported when a limiter is built, never at ``import chatmini``.
"""

from __future__ import annotations

import logging
import math
import threading
from typing import TYPE_CHECKING, Any, Optional, Union

from chatmini.errors import ChatminiError, InvalidRequestError
from chatmini.plugins._budget import Budget
from chatmini.plugins._redis import Outage, connect, describe
from chatmini.plugins._redis_budget import RedisBudget, Ticket
from chatmini.plugins.ratelimit import (
    DEFAULT_COMPLETION_TOKENS,
    MAX_COOLDOWN,
    LimiterHooks,
    check_limits,
    settle_budget,
    until,
)

if TYPE_CHECKING:
    from chatmini.request import Request

DEFAULT_PREFIX = "chatmini:ratelimit"
DEFAULT_LEASE_TTL = 30.0
DEFAULT_TIMEOUT = 1.0  # seconds to connect to Redis, and to wait for each answer
FAIL_MODES = ("open", "closed")
logger = logging.getLogger("chatmini")


class LimiterUnavailableError(ChatminiError):
    """The shared limiter's Redis did not answer and ``fail_mode="closed"``: nothing was sent."""


class RedisRateLimiter(LimiterHooks):
    """Requests and tokens per minute and concurrent requests, shared through Redis.

    Every limiter built with the same Redis, ``prefix`` and ``key`` (and the same numbers)
    shares one budget; ``per_model=True`` gives each model its own copy of it, as OpenAI's
    limits are per model. Turns are reserved on Redis' clock in one atomic script call, so
    hosts' clocks need not agree. Concurrency slots are leases renewed while their request runs:
    a killed worker's slots come back within ``lease_ttl`` seconds. When Redis cannot be
    reached, ``fail_mode="open"`` limits each process on its own with the same budgets (one
    WARNING, Redis tried again every ``recheck`` seconds) and ``"closed"`` fails the call with
    LimiterUnavailableError. ``redis`` is a URL (default CHATMINI_REDIS_URL, then localhost) or
    a ``redis.Redis``; URLs get ``timeout``-second socket timeouts and no hidden retries.
    """

    chatmini_plugin_name = "redis_ratelimit"

    def __init__(
        self,
        redis: Union[str, Any, None] = None,
        *,
        rpm: Optional[float] = None,
        tpm: Optional[float] = None,
        max_concurrent: Optional[int] = None,
        key: str = "default",
        per_model: bool = False,
        prefix: str = DEFAULT_PREFIX,
        lease_ttl: float = DEFAULT_LEASE_TTL,
        fail_mode: str = "open",
        timeout: float = DEFAULT_TIMEOUT,
        recheck: float = 5.0,
        default_max_tokens: int = DEFAULT_COMPLETION_TOKENS,
        max_cooldown: float = MAX_COOLDOWN,
    ) -> None:
        check_limits(rpm, tpm, max_concurrent, default_max_tokens, max_cooldown)
        if fail_mode not in FAIL_MODES:
            raise InvalidRequestError(f"fail_mode must be 'open' or 'closed', not {fail_mode!r}")
        for name, value in (("lease_ttl", lease_ttl), ("timeout", timeout), ("recheck", recheck)):
            if not isinstance(value, (int, float)) or not value > 0:
                raise InvalidRequestError(f"{name} must be seconds > 0, not {value!r}")
        self._redis, self._errors, self._password = connect(redis, timeout, "RedisRateLimiter")
        self.where = describe(self._redis)
        self.key = key
        self.per_model = per_model
        self.fail_mode = fail_mode
        self.recheck = recheck
        self.default_max_tokens = default_max_tokens
        self.max_cooldown = max_cooldown
        self._count_tokens = tpm is not None
        self._tokens_per_minute = float(tpm) if tpm is not None else math.inf
        self._limits = (rpm, tpm, max_concurrent)
        self.budget = RedisBudget(
            self._redis, prefix, rpm, tpm, max_concurrent, lease_ttl, self._keeper_failed
        )
        self._local: dict[str, Budget] = {}
        self._lock = threading.Lock()
        self._outage = Outage(  # fail-open: local limits while it lasts
            "the shared rate limiter's Redis", self.where, self._password, recheck,
            fallback="this process limits itself with the same budgets until it does "
                     "(fail_mode='open')",
        )

    @property
    def round_trips(self) -> int:
        """Script calls sent to Redis so far (acquires, settlements, lease renewals)."""
        return self.budget.round_trips

    def _name(self, request: Request) -> str:
        return f"{self.key}:{request.model or '-'}" if self.per_model else self.key

    def _acquire(self, request: Request, tokens: float) -> Any:
        name = self._name(request)
        if self._outage.active:
            return self._local_acquire(name, tokens, request.deadline)
        started = self._outage.begin()
        try:
            ticket = self.budget.acquire(name, tokens, request.deadline)
        except self._errors as exc:
            if self.fail_mode == "closed":
                raise LimiterUnavailableError(
                    f"the shared rate limiter's Redis at {self.where} did not answer "
                    f"({self._reason(exc)}); nothing was sent (fail_mode='closed')"
                ) from None
            self._outage.failed(exc)
            return self._local_acquire(name, tokens, request.deadline)
        self._outage.answered(started)
        return ticket

    def _local_acquire(self, name: str, tokens: float, deadline: Optional[float]) -> Budget:
        with self._lock:
            budget = self._local.get(name)
            if budget is None:
                budget = self._local[name] = Budget(*self._limits)
        budget.acquire(tokens, until(deadline, budget.clock))
        return budget

    def _settle(self, ticket: Any, token_delta: float, cool_down: float, release: bool) -> None:
        if isinstance(ticket, Ticket):
            self.budget.settle(ticket, token_delta, cool_down, release)
        else:
            settle_budget(ticket, token_delta, cool_down, release)

    def _keeper_failed(self, exc: Exception) -> None:
        """A settlement or lease renewal failed: leases expire on their own in Redis."""
        if self.fail_mode == "open" and isinstance(exc, self._errors):
            self._outage.failed(exc)
        else:
            logger.debug("redis limiter could not settle: %s", self._reason(exc))

    def _reason(self, exc: BaseException) -> str:
        return self._outage.reason(exc)

    def close(self) -> None:
        """Send pending settlements and stop the background thread (the limiter then stops)."""
        try:
            self.budget.close()
        except self._errors as exc:
            logger.debug("redis limiter could not settle: %s", self._reason(exc))

    def __repr__(self) -> str:
        rpm, tpm, max_concurrent = self._limits
        return (f"<RedisRateLimiter redis={self.where} key={self.key!r} rpm={rpm} tpm={tpm} "
                f"max_concurrent={max_concurrent} fail_mode={self.fail_mode!r}>")
