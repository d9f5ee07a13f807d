"""The test Server in a child process, optionally behind a FaultProxy there too: a benchmark or a
soak then measures only the client's threads, descriptors, memory and CPU, and the server's
work does not compete with the client for this process's GIL.

``with ServerProcess(latency=0.05) as server:`` gives ``server.base_url``; ``server.stats()``,
``server.reset()`` and ``server.enqueue(Reply(...))`` ask the child over a pipe. With
``proxy=True`` the base URL is the proxy's, and ``proxy_fault_rate`` breaks that share of
answers on the wire.
"""

from __future__ import annotations

import multiprocessing
import time
from typing import Any, Optional, Sequence

from .faults import DEFAULT_SERVER_FAULTS, FaultInjector
from .proxy import DEFAULT_PROXY_FAULTS, Fault, FaultProxy
from .replies import PER_EVENT, Reply
from .server import Server

__all__ = ["ServerProcess"]

START_TIMEOUT = 60.0  # seconds for a fresh interpreter to import chatmini and start serving


def _stats(server: Server, proxy: Optional[FaultProxy]) -> dict[str, Any]:
    stats: dict[str, Any] = {
        "requests": len(server.requests),
        "connections": server.connections_opened,
        "pending": server.pending,
        "faults": dict(server.faults.injected),
        "cpu_seconds": time.process_time(),  # the child's, all its threads
    }
    if proxy is not None:
        stats.update(proxy_connections=proxy.connections_opened,
                     proxy_requests=proxy.requests_seen, proxy_injected=dict(proxy.injected),
                     proxy_fired=dict(proxy.fired))
    return stats


def _serve(conn: Any, settings: dict[str, Any]) -> None:
    """The child: serve until told to stop (or the parent goes), answering on the pipe."""
    seed = settings["seed"]
    server = Server(latency=settings["latency"], framing=settings["framing"])
    server.faults = FaultInjector(settings["fault_rate"], seed, settings["faults"])
    server.start()
    proxy = None
    if settings["proxy"]:
        proxy = FaultProxy(server.url, fault_rate=settings["proxy_fault_rate"],
                           faults=settings["proxy_faults"],
                           seed=None if seed is None else seed + 1).start()
    conn.send(server.base_url if proxy is None else proxy.base_url)
    try:
        while True:
            command = conn.recv()
            if command == "stats":
                conn.send(_stats(server, proxy))
            elif command == "reset":
                server.reset()
                conn.send(None)
            elif isinstance(command, tuple) and command[0] == "enqueue":
                server.enqueue(*command[1])
                conn.send(None)
            else:
                break
    except EOFError:
        pass  # the parent went away
    finally:
        if proxy is not None:
            proxy.stop()
        server.stop()


class ServerProcess:
    """A ``chatmini.testing.Server`` running in a spawned process (a fresh interpreter: no
    forked threads).

    ``latency`` is the Server's; ``fault_rate`` of unscripted requests get one of ``faults``
    (DEFAULT_SERVER_FAULTS: 429, 503, a dropped connection). ``proxy=True`` puts a FaultProxy
    in front, breaking ``proxy_fault_rate`` of answers with one of ``proxy_faults``
    (DEFAULT_PROXY_FAULTS: resets and truncations). ``seed`` makes both repeatable.
    ``framing`` is the Server's (how streams are written: ``"per-event"`` or ``"coalesced"``).
    """

    def __init__(
        self, *, latency: float = 0.0, fault_rate: float = 0.0,
        faults: Sequence[Reply] = DEFAULT_SERVER_FAULTS, seed: Optional[int] = None,
        proxy: bool = False, proxy_fault_rate: float = 0.0,
        proxy_faults: Sequence[Fault] = DEFAULT_PROXY_FAULTS, framing: str = PER_EVENT,
    ) -> None:
        """Keep the settings; nothing runs until ``start()``."""
        if proxy_fault_rate and not proxy:
            raise ValueError(f"proxy_fault_rate={proxy_fault_rate!r} needs proxy=True")
        self.settings = {
            "latency": latency, "fault_rate": fault_rate, "faults": tuple(faults),
            "seed": seed, "proxy": proxy, "proxy_fault_rate": proxy_fault_rate,
            "proxy_faults": tuple(proxy_faults), "framing": framing,
        }
        self.base_url = ""
        self._conn: Any = None
        self._process: Any = None

    def start(self) -> ServerProcess:
        """Spawn the child and wait until it serves."""
        context = multiprocessing.get_context("spawn")
        parent, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child, self.settings),
                                        daemon=True, name="chatmini-server-process")
        self._process.start()
        child.close()
        self._conn = parent
        if not parent.poll(START_TIMEOUT):
            self.stop()
            raise RuntimeError(f"the test server process did not start within "
                               f"{START_TIMEOUT:.0f} s")
        self.base_url = parent.recv()
        return self

    def _ask(self, command: Any) -> Any:
        self._conn.send(command)
        return self._conn.recv()

    def stats(self) -> dict[str, Any]:
        """Counters so far: the server's ``requests``, ``connections``, ``pending`` (scripted
        replies not used yet) and ``faults`` (by kind: ``429``, ``503``, ``drop``), the child's
        ``cpu_seconds`` (all its threads) and, with a proxy, its ``proxy_connections``,
        ``proxy_requests``, ``proxy_injected`` and ``proxy_fired`` (faults by label)."""
        return dict(self._ask("stats"))

    def enqueue(self, *replies: Reply) -> None:
        """Script the child server's next answers, as ``Server.enqueue`` does."""
        self._ask(("enqueue", replies))

    def reset(self) -> None:
        """Forget the server's recorded requests, connections and fault counts (the proxy's
        counters go on)."""
        self._ask("reset")

    def stop(self) -> None:
        """Stop the child and wait for it."""
        if self._process is None:
            return
        try:
            self._conn.send("stop")
        except OSError:
            pass
        self._process.join(timeout=10)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()
        self._conn.close()
        self._process = None

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
