"""The ``fallback`` plugin: each attempt goes to the first healthy endpoint (in order, or by
weight), with that endpoint's credential; an unwell answer fails over to the next one at once.

Through the public hooks only: ``chatmini_prepare_request`` picks the endpoint and rewrites the
attempt for it, ``chatmini_authenticate`` (``tryfirst``) puts its credential on (so no other
credential runs), a ``chatmini_send`` wrapper judges what the network answered (an answer from
a cache never reaches it), and ``chatmini_retry_decision`` asks for a replay to the next
endpoint after an unwell failure, granting the call that replay (``EXTRA_REPLAYS``), so
failovers never use up the replays a credential needs. Client errors (400, 401, 404, 422 ...)
neither count against an endpoint nor fail over: they would fail everywhere. A stream fails
over only until its response headers arrived; once the Stream is the caller's, a cut is an
IncompleteStreamError (and counts against the endpoint).
"""

from __future__ import annotations

import logging
import random
import time
from typing import TYPE_CHECKING, Any, Generator, Iterable, Optional, Union

from chatmini.errors import APIConnectionError, APIStatusError, ChatminiError, InvalidRequestError
from chatmini.hookspecs import hookimpl
from chatmini.request import EXTRA_REPLAYS, LABELS
from chatmini.stats import add_section
from chatmini.uploads import StreamedBody

from .breaker import CLOSED, OPEN, Clock, HealthReport, Settings
from .endpoint import Endpoint
from .outcome import judge
from .shared import DEFAULT_PREFIX, LocalCircuits, SharedCircuits

if TYPE_CHECKING:
    import requests

    from chatmini.client import Client
    from chatmini.request import Request
    from chatmini.streaming import EventStream

KEY = "chatmini.fallback"  # request.context: the call's Route
UPSTREAM = "upstream"  # request.context and the call's labels: the endpoint that served it
ORDERS = ("priority", "weighted")
logger = logging.getLogger("chatmini")


class EndpointsUnavailableError(APIConnectionError):
    """Every endpoint of a fallback is open (cooling down) or probing: nothing was sent.

    Not retried; the message says when each endpoint takes calls again.
    """


class Route:
    """One call's way through the endpoints: this round's order, where it is, what happened."""

    __slots__ = ("order", "retries", "index", "endpoint", "probe", "unwell", "advance")

    def __init__(self, order: list[Endpoint], retries: int) -> None:
        self.order = order
        self.retries = retries  # retries spent when this round began
        self.index = 0
        self.endpoint: Optional[Endpoint] = None  # the current attempt's
        self.probe = False  # the current attempt is its endpoint's one probe, still undecided
        self.unwell: Optional[str] = None  # why its endpoint answered unwell
        self.advance = False  # fail over: the next attempt takes the next endpoint


class Fallback:
    """Sends each call to the first healthy of ``endpoints`` (``Endpoint`` objects), failing
    over to the next on connection errors, timeouts, 5xx, 408 and 429s that say to wait at
    least ``long_retry_after`` seconds or that the quota is gone.

    ``order="weighted"`` spreads calls by the endpoints' weights instead of trying them in
    the order given. Each endpoint has a circuit breaker: ``failures`` unwell attempts in a
    row (or, with ``error_rate``, that share of at least ``min_calls`` attempts over the last
    ``window`` seconds) open it for ``cooldown`` seconds (what Retry-After asked, when it did),
    then one probe call decides; each failed probe doubles the cool-down, up to
    ``max_cooldown``. With ``redis`` (a URL or a ``redis.Redis``) the breakers are shared by
    every process naming the same ``key``. ``seed`` makes the weighted order repeatable;
    ``clock`` (seconds, monotonic) is injectable for tests.
    """

    chatmini_plugin_name = "fallback"

    def __init__(
        self,
        endpoints: Iterable[Endpoint],
        *,
        order: str = "priority",
        failures: int = 3,
        error_rate: Optional[float] = None,
        window: float = 60.0,
        min_calls: int = 20,
        cooldown: float = 30.0,
        max_cooldown: float = 300.0,
        long_retry_after: float = 5.0,
        redis: Union[str, Any, None] = None,
        key: str = "default",
        prefix: str = DEFAULT_PREFIX,
        redis_timeout: float = 1.0,
        refresh: float = 1.0,
        seed: Optional[int] = None,
        clock: Clock = time.monotonic,
    ) -> None:
        self.endpoints = list(endpoints)
        if not self.endpoints or not all(isinstance(e, Endpoint) for e in self.endpoints):
            raise InvalidRequestError("Fallback needs a list of one or more Endpoint objects")
        names = [endpoint.name for endpoint in self.endpoints]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise InvalidRequestError(f"Fallback endpoints need distinct names; twice: {twice}")
        if order not in ORDERS:
            raise InvalidRequestError(f"order must be 'priority' or 'weighted', not {order!r}")
        if not isinstance(long_retry_after, (int, float)) or long_retry_after < 0:
            raise InvalidRequestError(
                f"long_retry_after must be seconds >= 0, not {long_retry_after!r}"
            )
        self.order = order
        self.long_retry_after = float(long_retry_after)
        settings = Settings(failures, error_rate, window, min_calls, cooldown, max_cooldown)
        self.circuits: LocalCircuits = (
            LocalCircuits(names, settings, clock) if redis is None else SharedCircuits(
                redis, names, settings, key=key, prefix=prefix, timeout=redis_timeout,
                refresh=refresh, clock=clock,
            )
        )
        self._random = random.Random(seed)

    def health(self) -> HealthReport:
        """Every endpoint's breaker now (also a section of ``client.stats()``)."""
        return HealthReport(self.circuits.health())

    # -- choosing the endpoint ---------------------------------------------------------------

    @hookimpl
    def chatmini_client_init(self, client: Client) -> None:
        if client.auth is not None:
            raise InvalidRequestError(
                "Client(auth=...) and a Fallback's endpoints both give the credential: "
                "give each Endpoint its own (api_key= or auth=)"
            )

    @hookimpl
    def chatmini_prepare_request(self, request: Request, client: Client) -> None:
        context = request.context
        route: Optional[Route] = context.get(KEY)
        if route is None:
            route = context[KEY] = Route(self._ordered(), request.retries)
            start = 0
        elif route.advance:  # failing over
            start, route.advance = route.index + 1, False
        elif request.retries != route.retries:  # the retry policy's retry: a new round
            route.order, route.retries, start = self._ordered(), request.retries, 0
        else:  # a replay someone else asked for (a fresh token): the same endpoint
            start = route.index
        route.endpoint, route.probe, route.unwell = None, False, None
        for index in range(start, len(route.order)):
            endpoint = route.order[index]
            verdict = self.circuits.acquire(endpoint.name)
            if verdict is not None:
                break
        else:
            raise EndpointsUnavailableError(self._unavailable(), request=request)
        route.index, route.endpoint, route.probe = index, endpoint, verdict
        if verdict:
            logger.info("fallback: endpoint %r is half-open: one probe call goes there",
                        endpoint.name)
        endpoint.rewrite(request, client.base_url)
        context[UPSTREAM] = endpoint.name
        context.setdefault(LABELS, {})[UPSTREAM] = endpoint.name

    @hookimpl(tryfirst=True)
    def chatmini_authenticate(self, request: Request, client: Client) -> Optional[str]:
        route: Optional[Route] = request.context.get(KEY)
        if route is None or route.endpoint is None:
            return None
        return route.endpoint.authenticate(request, client)  # "" without one: the chain stops

    def _ordered(self) -> list[Endpoint]:
        if self.order == "priority":
            return self.endpoints
        rand = self._random.random  # weighted shuffle: key u^(1/w), highest first
        return sorted(self.endpoints, key=lambda e: rand() ** (1.0 / e.weight), reverse=True)

    def _unavailable(self) -> str:
        parts = []
        for row in self.circuits.health():
            wait = ("tried" if row.state == CLOSED else
                    f"takes a probe in {row.retry_in:.1f} s" if row.retry_in else "probing")
            last = f"; last: {row.last_error}" if row.last_error else ""
            parts.append(f"{row.name!r} {row.state} ({wait}{last})")
        return "No endpoint can take the call now: " + ", ".join(parts) + "."

    # -- what came back ----------------------------------------------------------------------

    @hookimpl(wrapper=True)
    def chatmini_send(
        self, request: Request, client: Client
    ) -> Generator[None, Any, Optional[requests.Response]]:
        route: Optional[Route] = request.context.get(KEY)
        if route is None or route.endpoint is None:
            passed: Optional[requests.Response] = yield
            return passed
        try:
            response: Optional[requests.Response] = yield
        except APIStatusError as exc:  # a wrapper inside this one judged the answer
            if exc.response is not None:
                self._judged(route, *judge(exc.response, client.retry, self.long_retry_after))
            raise
        except APIConnectionError as exc:
            self._judged(route, type(exc).__name__, None)
            raise
        if response is not None:
            self._judged(route, *judge(response, client.retry, self.long_retry_after))
        return response

    def _judged(self, route: Route, failure: Optional[str], wait: Optional[float]) -> None:
        route.unwell = failure
        route.probe = False
        endpoint = route.endpoint
        if endpoint is not None:
            self._note(endpoint.name, self.circuits.record(endpoint.name, failure, wait),
                       failure)

    def _note(self, name: str, change: Optional[str], failure: Optional[str]) -> None:
        """Log a state change once, where it happened."""
        if change == OPEN:
            row = next(row for row in self.circuits.health() if row.name == name)
            logger.warning(
                "fallback: endpoint %r is open after %d unwell attempt(s) in a row (last: %s)%s;"
                " calls skip it for %.1f s", name, row.consecutive, failure,
                "" if row.error_rate is None else f", {row.error_rate:.0%} of recent attempts",
                row.retry_in,
            )
        elif change == CLOSED:
            logger.warning("fallback: endpoint %r is closed again: a probe call succeeded", name)

    @hookimpl
    def chatmini_after_attempt(self, request: Request) -> None:
        route: Optional[Route] = request.context.get(KEY)
        if route is not None and route.probe and route.endpoint is not None:
            route.probe = False  # no verdict (a cache answered, it failed before or apart from
            self.circuits.release(route.endpoint.name)  # the network): the next call probes

    @hookimpl
    def chatmini_retry_decision(
        self,
        request: Request,
        response: Optional[requests.Response],
        error: ChatminiError,
        client: Client,
    ) -> Optional[str]:
        context = request.context
        route: Optional[Route] = context.get(KEY)
        if isinstance(error, EndpointsUnavailableError):
            return "raise"
        if route is None or route.endpoint is None:
            return None
        verdict = route.endpoint.retry_decision(request, response, error, client)
        if verdict is not None or route.unwell is None:
            return verdict  # its credential's word (a 401: a fresh token), or a client error
        body = request.body
        if isinstance(body, StreamedBody) and not body.can_resend:
            return None  # the transport ends the call: the upload's bytes are gone
        ready = self.circuits.ready
        if any(ready(e.name) for e in route.order[route.index + 1:]):
            route.advance = True
            context[EXTRA_REPLAYS] = context.get(EXTRA_REPLAYS, 0) + 1  # one per endpoint a round
            logger.debug("fallback: %r answered %s; failing over", route.endpoint.name,
                         route.unwell)
            return "replay"
        if not any(ready(e.name) for e in route.order):
            return "raise"  # nothing could take a retry: the last error stands
        return None  # the retry policy decides; a retry starts a new round

    @hookimpl
    def chatmini_stream_end(
        self, request: Request, stream: EventStream[Any], error: Optional[ChatminiError]
    ) -> None:
        route: Optional[Route] = request.context.get(KEY)
        if route is None or route.endpoint is None or not isinstance(error, APIConnectionError):
            return
        name, why = route.endpoint.name, f"stream cut: {type(error).__name__}"
        self._note(name, self.circuits.record(name, why, None), why)

    @hookimpl(wrapper=True)
    def chatmini_stats(self) -> Generator[None, Any, Any]:
        return add_section((yield), "endpoints", self.health())

    def __repr__(self) -> str:
        names = ", ".join(repr(e.name) for e in self.endpoints)
        return f"<Fallback {self.order} [{names}]>"

