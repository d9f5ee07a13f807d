"""Slow-call rules: a threshold on recent latency that alerts once per crossing, not per call.

A rule watches one metric of a Timing (``duration``, ``ttft``: the first chunk, reasoning
included, ``time_to_first_content``: the first answer piece, after any reasoning, or
``time_to_headers``) per model and endpoint: the given quantile of the last ``over_last``
calls (``over_last=1``: each call on its own). When it goes above ``above`` seconds the
rule fires (callback and one WARNING record); it fires again only after the value has come
back to ``above`` or below.

A rule judges only once its window is full: a p99 "over the last 100 calls" taken over three
calls is the slowest of three, noise that would alert at every start. Pair it with an
``over_last=1`` rule to catch any single call that is far too slow from the first call on.

A rule is itself a plugin (``Client(plugins=[rule])``): it implements ``chatmini_timing``, the
hook the timing plugin declares, and keeps its own windows.
"""

from __future__ import annotations

import logging
import threading
from bisect import bisect_left, insort
from collections import deque
from typing import TYPE_CHECKING, Callable, Optional

from chatmini.errors import InvalidRequestError
from chatmini.hookspecs import hookimpl
from chatmini.stats import nearest_rank

from .hookspecs import warn_unless_declared

if TYPE_CHECKING:
    from chatmini.client import Client

    from .record import Timing

logger = logging.getLogger("chatmini")
METRICS = ("duration", "ttft", "time_to_first_content", "time_to_headers")


class SlowCallRule:
    """Alert when the ``quantile`` of ``metric`` over the last ``over_last`` calls exceeds
    ``above`` seconds: ``SlowCallRule(0.5, over_last=100)`` is "p99 of the last 100 calls
    above 500 ms", ``SlowCallRule(5.0)`` is "any call above 5 s".

    Register it as a plugin (``Client(plugins=[rule])`` or ``slow_call_rules=[rule]``) or give
    it to a ``Stats``; one rule object keeps one window per model and endpoint wherever its
    calls come from. Thread-safe.
    """

    def __init__(
        self,
        above: float,
        *,
        over_last: int = 1,
        quantile: float = 0.99,
        metric: str = "duration",
        callback: Optional[Callable[[SlowCallAlert], object]] = None,
    ) -> None:
        if not above > 0:
            raise InvalidRequestError(f"above must be seconds > 0, not {above!r}")
        if not isinstance(over_last, int) or over_last < 1:
            raise InvalidRequestError(f"over_last must be an integer >= 1, not {over_last!r}")
        if not 0 < quantile <= 1:
            raise InvalidRequestError(f"quantile must be in (0, 1], not {quantile!r}")
        if metric not in METRICS:
            raise InvalidRequestError(f"metric must be one of {METRICS}, not {metric!r}")
        self.above = float(above)
        self.over_last = over_last
        self.quantile = quantile
        self.metric = metric
        self.callback = callback
        self._lock = threading.RLock()  # a dropped Stream may report from a finaliser (GC)
        self._watches: dict[tuple[str, str], RuleWatch] = {}

    def observe(self, timing: Timing) -> Optional[SlowCallAlert]:
        """Take one finished call; fire and return the alert when it makes the rule cross."""
        value = getattr(timing, self.metric)
        if value is None:
            return None
        key = (timing.model or "-", timing.route)
        with self._lock:
            watch = self._watches.get(key)
            if watch is None:
                watch = self._watches[key] = RuleWatch(self)
            crossed = watch.add(value)
        if crossed is None:
            return None
        alert = SlowCallAlert(self, key[0], key[1], crossed, timing)
        fire(alert)  # outside the lock: the callback may be slow
        return alert

    def reset(self) -> None:
        """Forget every window (the rule stays armed)."""
        with self._lock:
            self._watches.clear()

    @hookimpl(optionalhook=True)
    def chatmini_timing(self, timing: Timing) -> None:
        self.observe(timing)

    @hookimpl
    def chatmini_client_init(self, client: Client) -> None:
        warn_unless_declared(client, f"slow-call rule ({self.describe()})")

    def describe(self) -> str:
        """The rule in words, e.g. ``p99 duration over the last 100 calls``."""
        if self.over_last == 1:
            return f"{self.metric} of a call"
        return f"p{self.quantile * 100:g} {self.metric} over the last {self.over_last} calls"

    def __repr__(self) -> str:
        return f"<SlowCallRule {self.describe()} above {self.above:g} s>"


class SlowCallAlert:
    """One crossing: which rule, for which model and endpoint, the value, and the last call."""

    __slots__ = ("rule", "model", "endpoint", "value", "timing")

    def __init__(
        self, rule: SlowCallRule, model: str, endpoint: str, value: float, timing: Timing
    ) -> None:
        self.rule = rule
        self.model = model
        self.endpoint = endpoint
        self.value = value
        self.timing = timing

    def __str__(self) -> str:
        return (
            f"slow calls: {self.rule.describe()} to {self.model} {self.endpoint} is "
            f"{self.value * 1000:.1f} ms, above {self.rule.above * 1000:.1f} ms"
        )

    __repr__ = __str__


class RuleWatch:
    """One rule's sliding window for one model and endpoint, kept sorted for cheap quantiles."""

    __slots__ = ("rule", "recent", "ordered", "crossed")

    def __init__(self, rule: SlowCallRule) -> None:
        self.rule = rule
        self.recent: deque[float] = deque()
        self.ordered: list[float] = []
        self.crossed = False

    def add(self, value: float) -> Optional[float]:
        """Take one value; return the watched quantile when this value makes the rule cross."""
        rule = self.rule
        self.recent.append(value)
        insort(self.ordered, value)
        if len(self.recent) > rule.over_last:
            del self.ordered[bisect_left(self.ordered, self.recent.popleft())]
        if len(self.recent) < rule.over_last:
            return None
        current = nearest_rank(self.ordered, rule.quantile)
        if current <= rule.above:
            self.crossed = False  # back under: armed again
            return None
        if self.crossed:
            return None
        self.crossed = True
        return current


def fire(alert: SlowCallAlert) -> None:
    """Log one WARNING and call the rule's callback; a failing callback is logged, not raised."""
    logger.warning("%s", alert, extra={"chatmini_alert": alert})
    callback = alert.rule.callback
    if callback is not None:
        try:
            callback(alert)
        except Exception:  # an alert hook must not break the API call that tripped it
            logger.exception("slow-call callback %r failed", callback)
