"""Client-side rate limits, a built-in plugin that is off until configured:
``Client(plugins=[RateLimiter(rpm=500, tpm=200_000, max_concurrent=16)])``.

Every attempt (retries too) waits in ``chatmini_send`` for its share of requests per minute,
tokens per minute and a concurrency slot; the slot is given back when the answer is read (for
streams, when the stream ends) and the token estimate is corrected with the real ``usage``.
The server's ``x-ratelimit-*`` headers and 429s pause every thread sharing the limiter.
What a server says is trusted only within bounds: a pause is capped at ``max_cooldown``, and a
usage count at the tokens of one minute (a larger request is refused by the API anyway), so an
absurd ``usage`` or header cannot stall the limiter for days, and never raises.
"""

from __future__ import annotations

import logging
import math
import time
from typing import TYPE_CHECKING, Any, Generator, Mapping, Optional

from chatmini.errors import APITimeoutError, InvalidRequestError
from chatmini.hookspecs import hookimpl
from chatmini.plugins._budget import Budget, Clock, TooLate
from chatmini.plugins._ratelimit_headers import pause_from_headers
from chatmini.redaction import redact_url
from chatmini.usage import total_tokens, usage_from_body

if TYPE_CHECKING:
    import requests

    from chatmini.client import Client
    from chatmini.errors import ChatminiError
    from chatmini.request import Request
    from chatmini.streaming import EventStream

logger = logging.getLogger("chatmini")
DEFAULT_COMPLETION_TOKENS = 256  # assumed completion size when a request sets no max_tokens
DEFAULT_COOLDOWN = 1.0  # pause after a 429 that says nothing about how long to wait
MAX_COOLDOWN = 60.0
CHARS_PER_TOKEN = 4
_STREAM_KEY = "chatmini.ratelimit.stream"
_LATE_KEY = "chatmini.ratelimit.late"  # the APITimeoutError this limiter raised: not retried


class LimiterHooks:
    """The hooks every rate limiter shares; subclasses say where the budget lives.

    Each attempt is estimated, waits in ``_acquire`` (which returns a ticket, and raises
    TooLate when the turn would come after the call's ``request.deadline``), and is settled
    once with ``_settle(ticket, token_delta, cool_down, release)``: real minus estimated tokens,
    a pause every worker must honour (a 429, exhausted ``x-ratelimit-*`` headers), and whether
    the concurrency slot is given back (a stream keeps it until it ends).
    """

    default_max_tokens: int = DEFAULT_COMPLETION_TOKENS
    max_cooldown: float = MAX_COOLDOWN
    _count_tokens: bool = False
    _tokens_per_minute: float = math.inf  # the most one request can really use

    def _acquire(self, request: Request, tokens: float) -> Any:
        raise NotImplementedError

    def _settle(self, ticket: Any, token_delta: float, cool_down: float, release: bool) -> None:
        raise NotImplementedError

    @hookimpl(wrapper=True, tryfirst=True)
    def chatmini_send(
        self, request: Request, client: Client
    ) -> Generator[None, Any, Optional[requests.Response]]:
        cost = estimate_tokens(request.params, self.default_max_tokens, request.endpoint)
        spent = cost if self._count_tokens else 0
        try:
            ticket = self._acquire(request, spent)
        except TooLate as late:
            error = request.context[_LATE_KEY] = too_late(request, late.wait)
            raise error from None
        try:
            response: Optional[requests.Response] = yield
        except BaseException:
            self._settle(ticket, -spent, 0.0, True)
            raise
        if response is None:
            self._settle(ticket, -spent, 0.0, True)
            return response
        pause, delta = self._judge(response, cost, client, request.stream)
        if request.stream and response.status_code < 300:
            request.context[_STREAM_KEY] = (ticket, cost)  # the slot is held until the end
            if pause > 0:
                self._settle(ticket, 0.0, pause, False)
        else:
            self._settle(ticket, delta, pause, True)
        return response

    def _judge(
        self, response: requests.Response, cost: int, client: Client, stream: bool
    ) -> tuple[float, float]:
        """(pause, token correction) for an answer; server data that makes no sense counts
        as saying nothing, and never raises here (the slot must be given back)."""
        try:
            pause = self._pause(response, cost, client)
        except Exception as exc:  # noqa: BLE001 - a server's headers, whatever they hold
            logger.debug("rate limiter ignored the answer's headers: %s", type(exc).__name__)
            pause = 0.0
        if stream and response.status_code < 300:
            return pause, 0.0
        try:
            return pause, self._token_delta(response, cost)
        except Exception as exc:  # noqa: BLE001 - a server's body, whatever it holds
            logger.debug("rate limiter ignored the answer's usage: %s", type(exc).__name__)
            return pause, 0.0

    @hookimpl
    def chatmini_retry_decision(self, request: Request, error: ChatminiError) -> Optional[str]:
        """A wait past the deadline fails the call: a retry could only wait longer."""
        return "raise" if request.context.get(_LATE_KEY) is error else None

    @hookimpl
    def chatmini_stream_end(
        self, request: Request, stream: EventStream[Any], error: Optional[ChatminiError]
    ) -> None:
        held = request.context.pop(_STREAM_KEY, None)
        if held is None:
            return
        ticket, cost = held
        delta = 0.0
        if self._count_tokens:
            used: Optional[float] = total_tokens(stream.usage)
            if used is None:  # no include_usage: the prompt estimate plus one token per chunk
                used = cost - completion_allowance(
                    request.params, self.default_max_tokens, request.endpoint
                )
                used += stream.chunk_count
            delta = self._correction(used, cost)
        self._settle(ticket, delta, 0.0, True)

    def _correction(self, used: float, cost: float) -> float:
        """Real minus estimated tokens, the real count held to [0, tokens per minute]."""
        return min(max(used, 0.0), self._tokens_per_minute) - cost

    def _token_delta(self, response: requests.Response, cost: int) -> float:
        """Real minus estimated tokens: a failed attempt is refunded, a 2xx read from ``usage``."""
        if not self._count_tokens:
            return 0.0
        if response.status_code >= 300:
            return -float(cost)
        prompt, completion = usage_from_body(response.content or b"")
        if prompt is None and completion is None:
            return 0.0
        return self._correction(float((prompt or 0) + (completion or 0)), cost)

    def _pause(self, response: requests.Response, cost: int, client: Client) -> float:
        """How long every worker should wait: the server says a budget is used up, or a 429."""
        pause = pause_from_headers(response.headers, cost)
        if response.status_code == 429:
            retry_after = client.retry.get_retry_after(response)  # type: ignore[arg-type]
            pause = retry_after if retry_after is not None else (pause or DEFAULT_COOLDOWN)
        return min(pause, self.max_cooldown) if pause > 0 else 0.0  # NaN > 0 is False


def check_limits(
    rpm: Optional[float], tpm: Optional[float], max_concurrent: Optional[int],
    default_max_tokens: int = DEFAULT_COMPLETION_TOKENS, max_cooldown: float = MAX_COOLDOWN,
) -> None:
    """A clear InvalidRequestError naming the setting: a limiter needs a budget, each budget a
    finite number > 0 (a count for max_concurrent), default_max_tokens a count >= 0 and
    max_cooldown finite seconds >= 0 (it caps what a server may ask for)."""
    if rpm is None and tpm is None and max_concurrent is None:
        raise InvalidRequestError("a rate limiter needs rpm=, tpm= or max_concurrent=")
    for name, value, kinds, zero in (
        ("rpm", rpm, (int, float), False), ("tpm", tpm, (int, float), False),
        ("max_concurrent", max_concurrent, (int,), False),
        ("default_max_tokens", default_max_tokens, (int,), True),
        ("max_cooldown", max_cooldown, (int, float), True),
    ):
        if value is None and not zero:
            continue  # a budget left unset
        # not value < 1e308: NaN, infinity and an int too large for a float, without overflow
        if (isinstance(value, bool) or not isinstance(value, kinds) or not value < 1e308
                or value < 0 or (value == 0 and not zero)):
            what = "an integer" if kinds == (int,) else "a finite number"
            raise InvalidRequestError(f"{name} must be {what} {'>= 0' if zero else '> 0'}, "
                                      f"not {value!r}")


class RateLimiter(LimiterHooks):
    """Requests per minute, tokens per minute and concurrent requests, across threads.

    Share one instance between Clients to share the budget. Requests are spaced evenly from
    the first one (no burst beyond the budget); waiting threads are served in arrival order and
    sleep (no polling). ``default_max_tokens`` is the completion size assumed for a request
    without ``max_tokens``/``max_completion_tokens``; ``max_cooldown`` caps any pause a server
    asks for. ``clock`` is injectable for tests.
    """

    chatmini_plugin_name = "ratelimit"

    def __init__(
        self,
        rpm: Optional[float] = None,
        tpm: Optional[float] = None,
        max_concurrent: Optional[int] = None,
        *,
        default_max_tokens: int = DEFAULT_COMPLETION_TOKENS,
        max_cooldown: float = MAX_COOLDOWN,
        clock: Clock = time.monotonic,
    ) -> None:
        check_limits(rpm, tpm, max_concurrent, default_max_tokens, max_cooldown)
        self.budget = Budget(rpm, tpm, max_concurrent, clock)
        self.default_max_tokens = default_max_tokens
        self.max_cooldown = max_cooldown
        self._count_tokens = tpm is not None
        self._tokens_per_minute = float(tpm) if tpm is not None else math.inf

    def _acquire(self, request: Request, tokens: float) -> None:
        self.budget.acquire(tokens, until(request.deadline, self.budget.clock))

    def _settle(self, ticket: None, token_delta: float, cool_down: float, release: bool) -> None:
        settle_budget(self.budget, token_delta, cool_down, release)

    def __repr__(self) -> str:
        b = self.budget
        rpm = b.requests.per_second * 60 if b.requests else None
        tpm = b.tokens.per_second * 60 if b.tokens else None
        return f"<RateLimiter rpm={rpm} tpm={tpm} max_concurrent={b.max_concurrent}>"


def until(deadline: Optional[float], clock: Clock) -> Optional[float]:
    """A call's deadline (``time.monotonic()`` seconds) on a budget's ``clock``."""
    return None if deadline is None else clock() + deadline - time.monotonic()


def too_late(request: Request, wait: Optional[float]) -> APITimeoutError:
    """The error of a call whose rate-limiter turn would come after its total deadline."""
    total = getattr(request.timeout, "total", None)
    limit = f"the {total:g} s total deadline" if total else "the total deadline"
    if wait is None:
        why = f"the rate limiter had no free turn or slot before {limit}"
    else:
        beyond = wait - max(0.0, (request.deadline or 0.0) - time.monotonic())
        why = f"the rate limiter would have had to wait {wait:.3g} s, {beyond:.3g} s beyond {limit}"
    return APITimeoutError(
        f"Request timed out ({why}; nothing was sent on attempt {request.attempt}) on "
        f"{request.method} {redact_url(request.url)}.", request=request,
    )


def settle_budget(budget: Budget, token_delta: float, cool_down: float, release: bool) -> None:
    """Settle one request on an in-process Budget (see ``LimiterHooks``)."""
    if release:
        budget.release(token_delta)
    if cool_down > 0:
        budget.cool_down(cool_down)


def prompt_chars(params: Mapping[str, Any]) -> int:
    """Characters of text a request sends: message contents (text parts too), else ``input``
    (strings, or Responses input items) or ``prompt``, plus ``instructions``."""
    instructions = params.get("instructions")
    chars = len(instructions) if isinstance(instructions, str) else 0
    for key in ("messages", "input", "prompt"):
        value = params.get(key)
        if isinstance(value, str):
            chars += len(value)
        elif isinstance(value, list):
            chars += sum(_text_chars(item) for item in value)
        if key == "messages" and value is not None:
            break
    return chars


def _text_chars(item: Any) -> int:
    """Characters of one message or input item: a string, or a dict's text content."""
    if isinstance(item, str):
        return len(item)
    if not isinstance(item, dict):
        return 0
    content = item.get("content", item.get("output"))
    if isinstance(content, list):
        return sum(_text_chars(part.get("text")) for part in content if isinstance(part, dict))
    return _text_chars(content)


def completion_allowance(
    params: Optional[Mapping[str, Any]], default: int, endpoint: str = ""
) -> int:
    """Tokens a reply may use: ``max_completion_tokens``, ``max_tokens`` or, for the Responses
    API, ``max_output_tokens`` (else ``default``) times ``n``; 0 for requests that produce no
    completion (embeddings)."""
    responses = endpoint == "/responses"
    if not params or ("messages" not in params and "prompt" not in params and not responses):
        return 0
    limit = (params.get("max_completion_tokens") or params.get("max_tokens")
             or params.get("max_output_tokens") or default)
    n = params.get("n") or 1
    if not isinstance(limit, int) or not isinstance(n, int):
        return default
    return limit * n


def estimate_tokens(
    params: Optional[Mapping[str, Any]], default_completion: int, endpoint: str = ""
) -> int:
    """Tokens a request will cost before it is sent: prompt characters / 4 plus the allowance
    (``endpoint``: the call's path, which tells a Responses request from an embedding)."""
    if not params:
        return 0
    prompt = math.ceil(prompt_chars(params) / CHARS_PER_TOKEN)
    return prompt + completion_allowance(params, default_completion, endpoint)
