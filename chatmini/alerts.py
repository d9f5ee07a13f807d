"""Slow-call rules: a threshold on recent latency that alerts once per crossing, not per call.

A rule watches one metric of a Timing (``duration`` or ``ttft``) per model and endpoint: the
given quantile of the last ``over_last`` calls (``over_last=1``: each call on its own). When it
goes above ``above`` seconds the rule fires (callback and one WARNING record); it fires again
only after the value has come back to ``above`` or below.
"""

from __future__ import annotations

import logging
import math
from bisect import bisect_left, insort
from collections import deque
from typing import TYPE_CHECKING, Callable, Optional, Sequence

from .errors import InvalidRequestError

if TYPE_CHECKING:
    from .timing import Timing

logger = logging.getLogger("chatmini")
METRICS = ("duration", "ttft", "time_to_headers")


def nearest_rank(ordered: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0 < q <= 1) of sorted values by the nearest-rank method."""
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


class SlowCallRule:
    """Alert when the ``quantile`` of ``metric`` over the last ``over_last`` calls exceeds
    ``above`` seconds: ``SlowCallRule(0.5, over_last=100)`` is "p99 of the last 100 calls
    above 500 ms", ``SlowCallRule(5.0)`` is "any call above 5 s"."""

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
