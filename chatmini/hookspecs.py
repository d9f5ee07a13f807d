"""Every hook a chatmini plugin can implement, in the order a call meets them.

Implement a hook by decorating a function or method with ``chatmini.hookimpl`` and naming it
after the hook; pluggy passes only the arguments an implementation names. Hooks may be called
from many threads at once (one Client is shared by threads), so implementations must be
thread-safe. See docs/plugins.md for one example per hook.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

import pluggy

if TYPE_CHECKING:
    import requests

    from .client import Client
    from .errors import ChatminiError
    from .request import Request
    from .sse import ServerSentEvent
    from .streaming import EventStream

PROJECT = "chatmini"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

RETRY_DECISIONS = ("retry", "replay", "raise", None)


# --- set-up ---------------------------------------------------------------------------------


@hookspec(historic=True)
def chatmini_addhooks(pluginmanager: pluggy.PluginManager) -> None:
    """Called once per plugin at registration, before any call: add hook specifications of
    your own with ``pluginmanager.add_hookspecs(module)`` (as ``pytest_addhooks`` does).

    The built-in ``timing`` plugin declares ``chatmini_timing`` this way. Other plugins that
    implement a hook declared by a plugin mark it ``@hookimpl(optionalhook=True)``, so a Client
    without the declaring plugin still builds.
    """


@hookspec
def chatmini_client_init(client: Client) -> None:
    """Called once when a Client is built, after every plugin is registered.

    Use it to read the client's settings or attach state (e.g. a stats object). Raising here
    makes the Client constructor fail with that exception.
    """


# --- each attempt -----------------------------------------------------------------------------


@hookspec
def chatmini_prepare_request(request: Request, client: Client) -> None:
    """Called before every attempt (first try, retries and replays) with a fresh copy.

    Change ``request.headers``, ``request.body`` or ``request.url`` in place: this is where
    authentication puts a (possibly refreshed) credential on each attempt. A file upload's body
    is a ``StreamedBody`` rather than bytes: leave it alone. Return nothing.
    """


@hookspec(firstresult=True)
def chatmini_authenticate(request: Request, client: Client) -> Optional[str]:
    """Called after ``chatmini_prepare_request`` on every attempt, to put the credential on it.

    One provider answers: the first implementation that returns a value (the name of the
    header carrying the credential) is the attempt's credential, and no other runs. The
    built-in API-key plugin is registered ``trylast``, so any credential plugin (OAuth2, a
    token provider, your own) replaces it without knowing its name. Return None to pass.
    A header the caller set explicitly (``extra_headers``) should be left as it is.
    """


@hookspec(firstresult=True)
def chatmini_local_response(request: Request, client: Client) -> Optional[requests.Response]:
    """Called after ``chatmini_authenticate`` on every attempt, before ``chatmini_send``: return
    a ``requests.Response`` to answer the attempt without the network (a response cache,
    recorded fixtures), or None to send it.

    An answer here skips ``chatmini_send`` and all its wrappers (rate limiters, per-send
    instrumentation); everything else runs as for a sent attempt (``chatmini_after_attempt``,
    decoding, streams through the stream core). Skipped when no plugin implements it.
    """


@hookspec(firstresult=True)
def chatmini_send(request: Request, client: Client) -> Optional[requests.Response]:
    """Send one attempt and return the ``requests.Response`` (status and headers read).

    The built-in ``transport`` plugin provides the real send (registered ``trylast``, so any
    plugin may answer instead, e.g. a cache). Implement it with ``wrapper=True`` to wrap every
    attempt like middleware: code before ``yield`` runs before the send, ``yield`` returns the
    response or raises the attempt's chatmini error (APIConnectionError, APITimeoutError), and
    ``return (yield)`` passes the result on. A non-2xx response is returned, not raised; a
    wrapper may raise its own APIStatusError for an answer it judges failed, and its
    ``response`` then counts as the attempt's response.
    """


@hookspec
def chatmini_after_attempt(
    request: Request,
    response: Optional[requests.Response],
    error: Optional[ChatminiError],
    client: Client,
) -> None:
    """Called after every attempt with its outcome, before any retry is decided.

    ``response`` is set whenever the server answered (any status); ``error`` is set when the
    attempt failed: the APIStatusError built from a non-2xx answer, or the connection error.
    """


@hookspec(firstresult=True)
def chatmini_retry_decision(
    request: Request,
    response: Optional[requests.Response],
    error: ChatminiError,
    client: Client,
) -> Optional[str]:
    """Called when an attempt failed, to overrule the retry policy.

    Return ``"replay"`` to resend at once without spending a retry (e.g. after refreshing an
    expired credential on a 401; the loop allows at most ``MAX_REPLAYS`` per call, plus what
    plugins granted the call in ``request.context[chatmini.request.EXTRA_REPLAYS]``),
    ``"retry"`` to retry with backoff (spending one of ``max_retries``), ``"raise"`` to fail
    now, or None to let the Retry policy decide. A replay asked for once the replays are used
    up falls back to the policy; any other value is a plugin bug and fails the call with
    ChatminiError.
    """


@hookspec(firstresult=True)
def chatmini_decode_body(request: Request, response: requests.Response, client: Client) -> Any:
    """Called for the 2xx answer of a call that is not a stream, to turn its body into data.

    Return the decoded value (a dict for API objects) in place of chatmini's JSON decoding,
    e.g. for an ``application/msgpack`` body, or None to leave the body to it. Raise
    APIResponseValidationError for a body that is not valid in its format. Skipped when no
    plugin implements it.
    """


@hookspec
def chatmini_call_end(
    request: Request,
    response: Optional[requests.Response],
    error: Optional[ChatminiError],
    client: Client,
    result: Any,
) -> None:
    """Called once per call after its last attempt, with the final response or error.

    ``result`` is what the call returns (the decoded answer, e.g. a ChatCompletion, or the
    Stream), None when it fails: read the answer here instead of parsing the body again.
    A 2xx whose body is not the JSON expected arrives here with that validation error. For
    streams this is when the response headers arrived; the events follow through
    ``chatmini_stream_event`` and the end through ``chatmini_stream_end``.
    """


# --- streams ----------------------------------------------------------------------------------


@hookspec
def chatmini_stream_reads(
    request: Request, reads: list[tuple[float, list[ServerSentEvent]]], client: Client
) -> None:
    """Called with the arrival of a streamed reply's events, batched: ``reads`` holds one
    ``(time, events)`` pair per network read that completed events, ``time`` being
    ``time.perf_counter()`` as the read returned and ``events`` what it completed (``[DONE]``
    included).

    Called for the first such read at once (the time to first event is known before the event
    is handed out), then once per 256 reads, and once more with the rest before
    ``chatmini_stream_end``: never a call per read, which on a live stream (one event a read)
    would cost a hook call per event. This is where to note arrival times (time to first
    token, gaps). When no plugin implements it, chatmini does not even read the clock.
    """


@hookspec
def chatmini_stream_event(request: Request, event: ServerSentEvent, client: Client) -> None:
    """Called for every event of a streamed reply as soon as it is parsed, ``[DONE]`` included.

    This is on the streaming hot path: keep it cheap. When no plugin implements it, chatmini
    skips the call entirely.
    """


@hookspec
def chatmini_stream_end(
    request: Request, stream: EventStream[Any], error: Optional[ChatminiError], client: Client
) -> None:
    """Called once when a stream ends: its terminal event (chat: ``[DONE]``; Responses:
    ``response.completed`` or ``.incomplete``), an error, closed early, or dropped unread.

    A stream the caller drops without closing is ended from its finaliser (``error`` None).
    ``stream`` is a chat ``Stream`` or a ``ResponseStream``: ``stream.completed`` tells whether
    the terminal event said the reply is whole, ``stream.chunk_count`` how many chunks (or
    Responses events) arrived, ``stream.usage`` the reported usage (either naming: read it with
    ``chatmini.usage.token_counts``), ``stream.first_output_at`` when the first output delta
    came, for streams whose first events carry no output (else None), and
    ``stream.first_content_at`` when the first piece of the answer came, after any reasoning
    (else None); both ``time.perf_counter()`` values.
    """


# --- reports and the end ------------------------------------------------------------------------


@hookspec(firstresult=True)
def chatmini_stats(client: Client) -> Any:
    """Called by ``client.stats()``: return the summary of the calls so far (an object that
    prints as a table, e.g. ``chatmini.stats.StatsReport``), or None to pass.

    The built-in ``timing`` plugin answers with its rolling latency table. When no plugin
    answers, ``client.stats()`` warns and returns an empty report.
    """


@hookspec
def chatmini_client_close(client: Client) -> None:
    """Called once by ``client.close()``, before the Client's own connections are closed:
    release what the plugin holds for this Client (its own connections, files, threads).

    A plugin shared by several Clients is told by each of them; it must stay usable (reopen
    on demand) unless it is meant for one Client only. Return nothing.
    """


HOOK_NAMES: tuple[str, ...] = tuple(
    name for name in dict(globals()) if name.startswith("chatmini_")
)

# Hooks that were renamed: a plugin still implementing the old name is refused with the new one.
RENAMED: dict[str, str] = {
    "chatmini_stream_read": (
        "chatmini_stream_reads(request, reads, client), whose reads are (perf_counter time, "
        "events) pairs handed over in batches"
    ),
}


def hook_names() -> tuple[str, ...]:
    """Names of all hooks, in declaration order (for docs and tests)."""
    return HOOK_NAMES

