"""One test per hook (test_hook_<name>), each over real sockets; a meta-test keeps it so."""

from __future__ import annotations

import threading

import pluggy
import pytest
import requests

import chatmini
from chatmini.hookspecs import hook_names
from chatmini.testing import Reply

from .conftest import HI


def create(client, **kw):
    return client.chat.completions.create(model="m", messages=HI, **kw)


def test_every_hook_has_a_test():
    missing = [n for n in hook_names() if f"test_hook_{n}" not in globals()]
    assert missing == []


def test_hook_chatmini_client_init(make_client):
    class Init:
        @chatmini.hookimpl
        def chatmini_client_init(self, client):
            client.init_seen = client.base_url

    client = make_client(plugins=[Init()])
    assert client.init_seen == client.base_url


def test_hook_chatmini_addhooks(make_client, server):
    import types

    specs = types.ModuleType("my_specs")
    marker = pluggy.HookspecMarker("chatmini")

    @marker
    def chatmini_my_event(name):
        """A hook this plugin declares and fires."""

    specs.chatmini_my_event = chatmini_my_event
    seen = []

    class Declares:
        @chatmini.hookimpl
        def chatmini_addhooks(self, pluginmanager):
            pluginmanager.add_hookspecs(specs)

        @chatmini.hookimpl
        def chatmini_call_end(self, client, request):
            client.plugin_manager.hook.chatmini_my_event(name=request.endpoint)

    class Listens:
        @chatmini.hookimpl(optionalhook=True)
        def chatmini_my_event(self, name):
            seen.append(name)

    client = make_client(plugins=[Listens(), Declares()])  # the listener may come first
    create(client)
    assert seen == ["/chat/completions"]
    make_client(plugins=[Listens()])  # optionalhook: without the declaring plugin it still builds


def test_hook_chatmini_authenticate(make_client, server):
    class Signer:
        @chatmini.hookimpl
        def chatmini_authenticate(self, request):
            request.headers["X-Signature"] = f"sig-{len(request.body)}"
            return "X-Signature"

    client = make_client(plugins=[Signer()])  # the Client also has an API key: the default
    create(client)
    headers = server.requests[-1].headers
    assert headers.get("x-signature", "").startswith("sig-")
    assert headers.get("authorization") is None  # one credential answers: the default stood back
    create(make_client())
    assert server.requests[-1].headers.get("authorization", "").startswith("Bearer ")


def test_authenticate_runs_after_prepare_request_on_every_attempt(make_client, server):
    order = []

    class Both:
        @chatmini.hookimpl
        def chatmini_prepare_request(self, request):
            order.append(("prepare", request.attempt))

        @chatmini.hookimpl
        def chatmini_authenticate(self, request):
            order.append(("authenticate", request.attempt))
            return "Authorization"

    client = make_client(plugins=[Both()])
    server.enqueue(Reply(status=503))
    create(client)
    assert order == [("prepare", 1), ("authenticate", 1), ("prepare", 2), ("authenticate", 2)]


def test_hook_chatmini_client_close(make_client, server):
    closed = []

    class Holder:
        @chatmini.hookimpl
        def chatmini_client_close(self, client):
            closed.append(client)

    client = make_client(plugins=[Holder()])
    create(client)
    assert closed == []
    client.close()
    assert closed == [client]


def test_hook_chatmini_stats(make_client, server):
    class Counter:
        calls = 0

        @chatmini.hookimpl
        def chatmini_call_end(self):
            self.calls += 1

        @chatmini.hookimpl(tryfirst=True)
        def chatmini_stats(self):
            return f"{self.calls} calls"

    client = make_client(plugins=[Counter()])
    create(client)
    assert client.stats() == "1 calls"  # the first answer wins over the built-in's table
    assert "calls" in make_client().stats().table()


def test_a_stats_wrapper_adds_a_section_to_the_timing_table(make_client, server):
    from chatmini.stats import StatsReport

    class Section:
        @chatmini.hookimpl(wrapper=True)
        def chatmini_stats(self):
            report = yield
            return (report or StatsReport([])).with_section("extra", "one line")

    client = make_client(plugins=[Section()])
    create(client)
    report = client.stats()
    assert report.get("m", "/chat/completions").count == 1
    assert report.sections == {"extra": "one line"}
    assert str(report).endswith("\n\nextra:\none line")
    blocked = make_client(plugins=[Section()], disabled_plugins=["timing"])
    assert blocked.stats().sections == {"extra": "one line"} and not blocked.stats().rows


def test_hook_chatmini_prepare_request(make_client, server):
    class Rewrite:
        @chatmini.hookimpl
        def chatmini_prepare_request(self, request):
            request.headers["X-Attempt"] = str(request.attempt)
            request.url = request.url.replace("/chat/completions", "/chat/completions?x=1")

    client = make_client(plugins=[Rewrite()])
    server.enqueue(Reply(status=500))
    create(client)
    assert [r.headers.get("x-attempt") for r in server.requests] == ["1", "2"]
    assert server.requests[-1].path.endswith("?x=1")


def test_prepare_request_sees_a_fresh_copy_each_attempt(make_client, server):
    class Append:
        @chatmini.hookimpl
        def chatmini_prepare_request(self, request):
            request.headers["X-Count"] = request.headers.get("X-Count", "") + "x"

    client = make_client(plugins=[Append()])
    server.enqueue(Reply(status=503))
    create(client)
    assert [r.headers.get("x-count") for r in server.requests] == ["x", "x"]


def test_hook_chatmini_send(make_client, server):
    events = []

    class Around:
        @chatmini.hookimpl(wrapper=True)
        def chatmini_send(self, request):
            events.append(("before", request.attempt))
            try:
                response = yield
            except chatmini.APIConnectionError as exc:
                events.append(("error", type(exc).__name__))
                raise
            events.append(("after", response.status_code))
            return response

    client = make_client(plugins=[Around()])
    server.enqueue(Reply(drop=True), Reply(status=500))
    create(client)
    assert events == [("before", 1), ("error", "APIConnectionError"), ("before", 2),
                      ("after", 500), ("before", 3), ("after", 200)]


def test_send_can_be_answered_by_a_plugin_without_network(make_client, server):
    class Canned:
        @chatmini.hookimpl
        def chatmini_send(self, request):
            response = requests.Response()
            response.status_code = 200
            response._content = b'{"choices": [{"message": {"content": "cached"}}]}'
            return response

    client = make_client(plugins=[Canned()])
    assert create(client).choices[0].message.content == "cached"
    assert server.requests == []


def test_hook_chatmini_local_response(make_client, server):
    """An answer from chatmini_local_response skips chatmini_send and its wrappers (a rate
    limiter there spends nothing), sees the credential, and a stream over it goes through the
    stream core event by event."""
    import io

    import urllib3

    seen, sent = [], []
    events = (b'data: {"choices":[{"index":0,"delta":{"content":"lo"}}]}\n\n'
              b'data: {"choices":[{"index":0,"delta":{"content":"cal"},"finish_reason":"stop"}]}'
              b'\n\ndata: [DONE]\n\n')

    class Local:
        @chatmini.hookimpl
        def chatmini_local_response(self, request):
            seen.append(request.headers.get("Authorization", "").startswith("Bearer "))
            if request.model == "network":
                return None
            response = requests.Response()
            response.status_code = 200
            body = events if request.stream else b'{"choices": [{"message": {"content": "local"}}]}'
            response.raw = urllib3.HTTPResponse(io.BytesIO(body), preload_content=False)
            if not request.stream:
                response._content = body
            return response

    class Meter:
        @chatmini.hookimpl(wrapper=True)
        def chatmini_send(self, request):
            sent.append(request.model)
            return (yield)

    client = make_client(plugins=[Local(), Meter()])
    assert create(client).choices[0].message.content == "local"
    with create(client, stream=True) as stream:
        assert "".join(stream.text_deltas()) == "local" and stream.completed
    assert client.chat.completions.create(model="network", messages=HI).choices
    assert seen == [True, True, True] and sent == ["network"] and len(server.requests) == 1


def test_a_plugin_may_grant_a_call_more_replays(make_client, server):
    from chatmini.request import EXTRA_REPLAYS

    class Granting:
        @chatmini.hookimpl
        def chatmini_retry_decision(self, request):
            if request.attempt < 5:  # its own bound: five attempts in all
                request.context[EXTRA_REPLAYS] = request.context.get(EXTRA_REPLAYS, 0) + 1
                return "replay"
            return None

    client = make_client(plugins=[Granting()], max_retries=0)
    server.enqueue(*[Reply(status=503)] * 5)
    with pytest.raises(chatmini.InternalServerError):
        create(client)
    assert len(server.requests) == 5  # four replays granted, none taken from MAX_REPLAYS


def test_hook_chatmini_after_attempt(make_client, server):
    seen = []

    class After:
        @chatmini.hookimpl
        def chatmini_after_attempt(self, request, response, error):
            seen.append((request.attempt, response.status_code if response is not None else None,
                         type(error).__name__ if error else None))

    client = make_client(plugins=[After()])
    server.enqueue(Reply(drop=True), Reply(status=429))
    create(client)
    assert seen == [(1, None, "APIConnectionError"), (2, 429, "RateLimitError"), (3, 200, None)]


def test_hook_chatmini_retry_decision(make_client, server):
    class Refresh:
        """Like an OAuth plugin: on a 401, switch to a fresh token and replay once."""

        def __init__(self):
            self.token = "old"

        @chatmini.hookimpl
        def chatmini_prepare_request(self, request):
            request.headers["Authorization"] = f"Bearer {self.token}"

        @chatmini.hookimpl
        def chatmini_retry_decision(self, request, error):
            if isinstance(error, chatmini.AuthenticationError) and self.token == "old":
                self.token = "new"
                return "replay"
            return None

    client = make_client(plugins=[Refresh()], max_retries=0)
    server.enqueue(Reply(status=401))
    assert create(client).choices
    assert [r.headers.get("authorization") for r in server.requests] == ["Bearer old", "Bearer new"]


def test_retry_decision_can_veto_and_force(make_client, server):
    class Decide:
        @chatmini.hookimpl
        def chatmini_retry_decision(self, response):
            if response is not None and response.status_code == 500:
                return "raise"
            if response is not None and response.status_code == 418:
                return "retry"
            return None

    client = make_client(plugins=[Decide()])
    server.enqueue(Reply(status=500))
    with pytest.raises(chatmini.InternalServerError):
        create(client)
    assert len(server.requests) == 1
    server.enqueue(Reply(status=418))
    assert create(client).choices
    assert len(server.requests) == 3


def test_replays_are_capped(make_client, server):
    class AlwaysReplay:
        @chatmini.hookimpl
        def chatmini_retry_decision(self):
            return "replay"

    client = make_client(plugins=[AlwaysReplay()], max_retries=0)
    server.enqueue(*[Reply(status=401)] * 5)
    with pytest.raises(chatmini.AuthenticationError):
        create(client)
    assert len(server.requests) == 1 + chatmini.pipeline.MAX_REPLAYS


def test_hook_chatmini_decode_body(make_client, server):
    calls = []

    class KeyValue:
        @chatmini.hookimpl
        def chatmini_decode_body(self, request, response):
            calls.append(request.endpoint)
            if response.headers["content-type"] != "text/x-kv":
                return None  # JSON, as usual
            pairs = [line.split("=", 1) for line in response.content.decode().splitlines()]
            if any(len(pair) != 2 for pair in pairs):
                raise chatmini.APIResponseValidationError(
                    "not key=value", response=response, request=request)
            return dict(pairs)

    ends = []

    class End:
        @chatmini.hookimpl
        def chatmini_call_end(self, error):
            ends.append(type(error).__name__ if error else None)

    client = make_client(plugins=[KeyValue(), End()])
    server.enqueue(Reply(body="object=thing\nname=kv", content_type="text/x-kv"))
    reply = client.get("/things/1")
    assert (reply.object, reply.name) == ("thing", "kv")
    assert create(client).choices[0].message.content == "echo: hi"  # None: JSON decoding
    server.enqueue(Reply(body="garbage", content_type="text/x-kv"))
    with pytest.raises(chatmini.APIResponseValidationError, match="not key=value"):
        client.get("/things/2")
    with create(client, stream=True) as stream:
        assert stream.get_final_completion().choices[0].message.content == "echo: hi"
    assert calls == ["/things/1", "/chat/completions", "/things/2"]  # never for a stream
    assert ends == [None, None, "APIResponseValidationError", None]


def test_send_wrapper_may_raise_a_status_error_for_the_answer_it_got(make_client, server):
    seen = []

    class Judge:
        @chatmini.hookimpl(wrapper=True)
        def chatmini_send(self, request):
            response = yield
            if response.headers.get("x-verdict") == "bad":
                raise chatmini.APIStatusError("judged bad", response=response, request=request)
            return response

        @chatmini.hookimpl
        def chatmini_after_attempt(self, response, error):
            seen.append((response.status_code, type(error).__name__ if error else None))

    client = make_client(plugins=[Judge()])
    server.enqueue(Reply(status=503, headers={"x-verdict": "bad"}))
    create(client)  # its 503 response reached the retry policy, which retried it
    server.enqueue(Reply(headers={"x-verdict": "bad"}))
    with pytest.raises(chatmini.APIStatusError, match="judged bad") as caught:
        create(client)
    assert caught.value.status_code == 200
    assert seen == [(503, "APIStatusError"), (200, None), (200, "APIStatusError")]


def test_hook_chatmini_call_end(make_client, server):
    ends = []
    results = []

    class End:
        @chatmini.hookimpl
        def chatmini_call_end(self, request, response, error, result):
            ends.append((request.attempt, getattr(response, "status_code", None),
                         type(error).__name__ if error else None))
            results.append(result)

    client = make_client(plugins=[End()], max_retries=1)
    server.enqueue(Reply(status=500))
    reply = create(client)
    server.enqueue(Reply(status=500), Reply(status=500))
    with pytest.raises(chatmini.InternalServerError):
        create(client)
    stream = create(client, stream=True)
    assert ends == [(2, 200, None), (2, 500, "InternalServerError"), (1, 200, None)]
    assert results[0] is reply and results[1] is None and results[2] is stream
    stream.close()


@pytest.mark.framings
def test_hook_chatmini_stream_event(make_client, server):
    events = []

    class Events:
        @chatmini.hookimpl
        def chatmini_stream_event(self, event):
            events.append(event.data)

    client = make_client(plugins=[Events()])
    chunks = list(create(client, stream=True))
    assert events[-1] == "[DONE]"
    assert len(events) == len(chunks) + 1


@pytest.mark.framings
def test_hook_chatmini_stream_end(make_client, server):
    ends = []

    class End:
        @chatmini.hookimpl
        def chatmini_stream_end(self, stream, error):
            ends.append((stream.completed, stream.chunk_count, type(error).__name__ if error else None))

    client = make_client(plugins=[End()])
    stream = create(client, stream=True)
    n = len(list(stream))
    server.enqueue(Reply(cut_after=2))
    with pytest.raises(chatmini.IncompleteStreamError):
        list(create(client, stream=True))
    with create(client, stream=True) as early:
        next(early)
    assert ends == [(True, n, None), (False, 2, "IncompleteStreamError"), (False, 1, None)]


def test_hooks_run_concurrently_from_threads(make_client, server):
    lock = threading.Lock()
    count = {"n": 0}

    class Count:
        @chatmini.hookimpl
        def chatmini_call_end(self):
            with lock:
                count["n"] += 1

    client = make_client(plugins=[Count()])
    threads = [threading.Thread(target=create, args=(client,)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert count["n"] == 8


def test_replay_past_the_cap_falls_back_to_the_retry_policy(make_client, server):
    class AlwaysReplay:
        @chatmini.hookimpl
        def chatmini_retry_decision(self):
            return "replay"

    client = make_client(plugins=[AlwaysReplay()], max_retries=1)
    server.enqueue(*[Reply(status=503)] * (chatmini.pipeline.MAX_REPLAYS + 1))
    assert create(client).choices  # two replays, then one retry spent on the third 503
    assert len(server.requests) == chatmini.pipeline.MAX_REPLAYS + 2


def test_unknown_retry_decision_is_a_clear_error(make_client, server):
    class Typo:
        @chatmini.hookimpl
        def chatmini_retry_decision(self):
            return "retyr"

    client = make_client(plugins=[Typo()])
    server.enqueue(Reply(status=500))
    with pytest.raises(chatmini.ChatminiError, match="retyr"):
        create(client)


def test_call_end_sees_a_body_validation_error(make_client, server):
    ends = []

    class End:
        @chatmini.hookimpl
        def chatmini_call_end(self, error):
            ends.append(type(error).__name__ if error else None)

    client = make_client(plugins=[End()])
    server.enqueue(Reply(body="<html>proxy</html>", content_type="text/html"))
    with pytest.raises(chatmini.APIResponseValidationError):
        create(client)
    assert ends == ["APIResponseValidationError"]


@pytest.mark.framings
def test_dropped_stream_still_ends_through_the_hook(make_client, server):
    import gc

    ends = []

    class End:
        @chatmini.hookimpl
        def chatmini_stream_end(self, stream, error):
            ends.append((stream.completed, error))

    client = make_client(plugins=[End()])
    s = create(client, stream=True)
    next(s)
    del s
    gc.collect()
    assert ends == [(False, None)]


def test_hook_chatmini_timing(make_client, server):
    seen = []

    class Timings:
        @chatmini.hookimpl
        def chatmini_timing(self, request, timing):
            seen.append((request.endpoint, timing.status, timing.error, len(timing.attempts),
                         timing.stream, timing.duration is not None))

    client = make_client(plugins=[Timings()], max_retries=1)
    server.enqueue(Reply(status=500))
    create(client)
    stream = create(client, stream=True)
    assert seen[-1][0] == "/chat/completions" and len(seen) == 1  # a stream reports at its end
    list(stream)
    server.enqueue(Reply(status=400))
    with pytest.raises(chatmini.BadRequestError):
        create(client)
    assert seen == [("/chat/completions", 200, None, 2, False, True),
                    ("/chat/completions", 200, None, 1, True, True),
                    ("/chat/completions", 400, "BadRequestError", 1, False, True)]


@pytest.mark.framings
def test_hook_chatmini_stream_reads(make_client, server):
    batches = []

    class Reads:
        @chatmini.hookimpl
        def chatmini_stream_reads(self, reads):
            batches.append([(at, [event.data for event in events]) for at, events in reads])

    client = make_client(plugins=[Reads()])
    server.enqueue(Reply(content="one two three", pause_after=2, pause=0.2))
    stream = create(client, stream=True)
    first = next(stream)
    assert len(batches) == 1  # the first read is told at once, before its events are handed out
    chunks = [first, *stream]
    assert len(batches) == 2  # the rest in one batch at the end
    reads = [read for batch in batches for read in batch]
    received = [data for _, events in reads for data in events]
    assert received[-1] == "[DONE]" and len(received) == len(chunks) + 1
    times = [at for at, _ in reads]
    assert times == sorted(times) and times[-1] - times[0] >= 0.15  # the pause split the reads
    assert all(events for _, events in reads)  # a read that completed no event is not noted
    batches.clear()
    server.enqueue(Reply(chunks=2000))
    assert len(list(create(client, stream=True))) == 2002
    reads = [read for batch in batches for read in batch]
    assert sum(len(events) for _, events in reads) == 2003
    assert len(batches) <= 2 + len(reads) // 256  # batched: not a call per read


def test_call_end_runs_when_a_call_is_interrupted(make_client, server):
    """Ctrl-C (or a plugin's bug) mid-call: the caller gets it unchanged, plugins still hear
    the call end (spans, timings, slots), with a CallInterrupted naming it."""
    ends = []

    class Interrupts:
        @chatmini.hookimpl
        def chatmini_after_attempt(self):
            raise KeyboardInterrupt

        @chatmini.hookimpl
        def chatmini_call_end(self, error):
            ends.append(error)

    client = make_client(plugins=[Interrupts()])
    with pytest.raises(KeyboardInterrupt):
        create(client)
    (error,) = ends
    assert isinstance(error, chatmini.CallInterrupted) and isinstance(error.cause, KeyboardInterrupt)
    assert "KeyboardInterrupt" in str(error)
    assert create(make_client()).choices  # the server and the pool are fine afterwards
