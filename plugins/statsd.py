"""StatsD metrics from every call's Timing, over UDP with the standard library only.

Lines are StatsD's ``name:value|type[|@rate]``, with DogStatsD tags ``|#key:value,...`` when
``tags=True`` (Datadog, Telegraf and statsd_exporter read them). One non-blocking send per call,
lines packed into datagrams of at most ``max_packet`` bytes; a send the OS refuses (daemon
down, buffer full) is counted in ``dropped`` and never reaches the API call.
"""

from __future__ import annotations

import random
import re
import socket
import threading
from typing import TYPE_CHECKING, Callable, Mapping, Optional

from chatmini.errors import InvalidRequestError
from chatmini.hookspecs import hookimpl
from chatmini.plugins.timing import warn_unless_declared

if TYPE_CHECKING:
    from chatmini.client import Client
    from chatmini.plugins.timing import Timing

DEFAULT_PORT = 8125
MAX_PACKET = 1432  # fits one Ethernet frame: what statsd clients commonly use
_BAD_NAME = re.compile(r"[:|@#,\s]")
_BAD_TAG = re.compile(r"[,|#\s]")


class StatsdMetrics:
    """A plugin sending timers (ms) and counters for each finished call to a StatsD daemon."""

    chatmini_plugin_name = "statsd"

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = DEFAULT_PORT,
        *,
        prefix: str = "chatmini",
        sample_rate: float = 1.0,
        tags: bool = False,
        constant_tags: Optional[Mapping[str, str]] = None,
        max_packet: int = MAX_PACKET,
        random_source: Callable[[], float] = random.random,
    ) -> None:
        if prefix and _BAD_NAME.search(prefix):
            raise InvalidRequestError(f"StatsD prefix must not hold ':|@#,' or spaces: {prefix!r}")
        if not 0 < sample_rate <= 1:
            raise InvalidRequestError(f"sample_rate must be in (0, 1], not {sample_rate!r}")
        self.prefix = prefix + "." if prefix else ""
        self.sample_rate = sample_rate
        self.tags = tags or bool(constant_tags)
        self._constant = [f"{_tag(k)}:{_tag(v)}" for k, v in (constant_tags or {}).items()]
        self._rate = f"|@{sample_rate:g}" if sample_rate < 1 else ""
        self.max_packet = max_packet
        self._random = random_source
        self._lock = threading.Lock()
        self.sent = 0
        self.dropped = 0
        try:  # resolved once here: a DNS lookup must not block calls later
            found = socket.getaddrinfo(host, port, 0, socket.SOCK_DGRAM)
            family, kind, proto, _, address = found[0]
        except OSError as exc:
            raise InvalidRequestError(f"StatsD host {host!r} does not resolve: {exc}") from None
        self._sock = socket.socket(family, kind, proto)
        self._sock.setblocking(False)
        self._sock.connect(address)  # connected: a refused send is reported, not silently lost

    @hookimpl
    def chatmini_client_init(self, client: Client) -> None:
        warn_unless_declared(client, "StatsD plugin")

    @hookimpl(optionalhook=True)
    def chatmini_timing(self, timing: Timing) -> None:
        if self.sample_rate < 1 and self._random() >= self.sample_rate:
            return
        model = timing.model or "none"
        status = str(timing.status) if timing.status is not None else "none"
        call = {**timing.labels, "model": model, "endpoint": timing.route, "status": status}
        lines = []
        if timing.duration is not None:
            lines.append(self._line("request.duration", _ms(timing.duration), "ms", call))
        lines.append(self._line("requests", "1", "c", call))
        for name, value in (("time_to_first_token", timing.ttft),
                            ("time_to_first_content", timing.time_to_first_content)):
            if value is not None:
                lines.append(self._line(name, _ms(value), "ms", {"model": model}))
        if timing.retries:
            lines.append(self._line("retries", str(timing.retries), "c",
                                    {"model": model, "endpoint": timing.route}))
        if timing.error is not None:
            lines.append(self._line("errors", "1", "c", {"model": model, "type": timing.error}))
        for kind, count in (("prompt", timing.prompt_tokens),
                            ("completion", timing.completion_tokens)):
            if count:
                lines.append(self._line("tokens", str(count), "c", {"model": model, "kind": kind}))
        self._send(lines)

    def _line(self, name: str, value: str, kind: str, tags: Mapping[str, str]) -> str:
        line = f"{self.prefix}{name}:{value}|{kind}{self._rate}"
        if self.tags:
            pairs = [f"{k}:{_tag(v)}" for k, v in tags.items()] + self._constant
            line += "|#" + ",".join(pairs)
        return line

    def _send(self, lines: list[str]) -> None:
        for packet in _packets(lines, self.max_packet):
            try:
                self._sock.send(packet)
            except OSError:  # daemon down (ECONNREFUSED), buffer full, socket closed: drop it
                with self._lock:
                    self.dropped += 1
            else:
                with self._lock:
                    self.sent += 1

    def close(self) -> None:
        """Close the UDP socket; later sends are counted as dropped."""
        self._sock.close()

    def __repr__(self) -> str:
        return f"<StatsdMetrics {self.prefix or '-'} sent={self.sent} dropped={self.dropped}>"


def _packets(lines: list[str], limit: int) -> list[bytes]:
    """Lines joined by newlines into datagrams of at most ``limit`` bytes (a longer line alone)."""
    packets: list[bytes] = []
    current = b""
    for line in lines:
        data = line.encode()
        if current and len(current) + 1 + len(data) > limit:
            packets.append(current)
            current = b""
        current = current + b"\n" + data if current else data
    if current:
        packets.append(current)
    return packets


def _tag(value: str) -> str:
    return _BAD_TAG.sub("_", value)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.3f}"
