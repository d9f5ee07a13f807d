"""Random fault injection for the test server: a share of requests fail the way real APIs do."""

from __future__ import annotations

import random
from collections import Counter
from typing import Sequence

from .replies import Reply

__all__ = ["DEFAULT_SERVER_FAULTS", "FaultInjector"]

# The answers the Server breaks a request with (HTTP level); the FaultProxy breaks the wire
# instead, with DEFAULT_PROXY_FAULTS.
DEFAULT_SERVER_FAULTS: tuple[Reply, ...] = (
    Reply(status=429, headers={"Retry-After": "0.2"}),
    Reply(status=503),
    Reply(drop=True),
)


def fault_name(reply: Reply) -> str:
    """A short label for a fault: ``drop`` or its HTTP status."""
    return "drop" if reply.drop else str(reply.status)


class FaultInjector:
    """Answers a ``rate`` share of unscripted requests with one of ``faults``, chosen at random.

    ``seed`` makes the sequence repeatable; ``injected`` counts what was sent (by ``fault_name``).
    Not thread-safe by itself: the Server calls ``pick`` under its lock.
    """

    def __init__(
        self, rate: float = 0.0, seed: int | None = None,
        faults: Sequence[Reply] = DEFAULT_SERVER_FAULTS,
    ) -> None:
        """Validate the rate (0 to 1) and keep a private random generator."""
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"fault_rate must be between 0 and 1, not {rate!r}")
        if rate and not faults:
            raise ValueError("faults must name at least one Reply when fault_rate > 0")
        self.rate = rate
        self.faults = tuple(faults)
        self.injected: Counter[str] = Counter()
        self._random = random.Random(seed)

    def pick(self) -> Reply | None:
        """A fault for this request, or None to answer it normally."""
        if not self.rate or self._random.random() >= self.rate:
            return None
        reply = self._random.choice(self.faults)
        self.injected[fault_name(reply)] += 1
        return reply

    def reset(self) -> None:
        """Forget the counts (the random sequence goes on)."""
        self.injected.clear()
