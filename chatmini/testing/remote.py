"""The test Server, with a FaultProxy in front of it, run in a child process: a soak or a
benchmark then counts only the client's threads, descriptors and memory, and the server's work
does not compete with the client for this process's GIL."""

from __future__ import annotations

import multiprocessing
from dataclasses import dataclass
from typing import Any, Optional

from .faults import DEFAULT_SERVER_FAULTS, FaultInjector
from .proxy import DEFAULT_PROXY_FAULTS, Fault, FaultProxy
from .replies import Reply
from .server import Server

__all__ = ["RemoteOptions", "RemoteServer"]


@dataclass(frozen=True)
class RemoteOptions:
    """What the child serves: the server's random faults (429/503/drop by default) and the
    proxy's (resets and truncations by default), each at its own rate, seeded."""

    server_fault_rate: float = 0.0
    server_faults: tuple[Reply, ...] = DEFAULT_SERVER_FAULTS
    proxy_fault_rate: float = 0.0
    proxy_faults: tuple[Fault, ...] = DEFAULT_PROXY_FAULTS
    seed: int = 0
    latency: float = 0.0


def _stats(server: Server, proxy: FaultProxy) -> dict[str, Any]:
    return {
        "server_requests": len(server.requests),
        "server_connections": server.connections_opened,
        "server_faults": dict(server.faults.injected),
        "proxy_connections": proxy.connections_opened,
        "proxy_requests": proxy.requests_seen,
        "proxy_injected": dict(proxy.injected),
        "proxy_fired": dict(proxy.fired),
    }


def _serve(conn: Any, options: RemoteOptions) -> None:
    """The child: serve until told to stop, answering "stats" requests on the pipe."""
    server = Server(latency=options.latency)
    server.faults = FaultInjector(options.server_fault_rate, options.seed, options.server_faults)
    server.start()
    proxy = FaultProxy(server.url, fault_rate=options.proxy_fault_rate,
                       faults=options.proxy_faults, seed=options.seed + 1).start()
    conn.send(proxy.base_url)
    try:
        while True:
            message = conn.recv()
            if message == "stats":
                conn.send(_stats(server, proxy))
            else:
                break
    except EOFError:
        pass  # the parent went away
    finally:
        proxy.stop()
        server.stop()


class RemoteServer:
    """``with RemoteServer(RemoteOptions(...)) as remote:`` then use ``remote.base_url``
    (the proxy's) and ``remote.stats()`` (counters of the server and the proxy)."""

    def __init__(self, options: Optional[RemoteOptions] = None) -> None:
        self.options = options or RemoteOptions()
        self.base_url = ""
        self._conn: Any = None
        self._process: Any = None

    def start(self) -> RemoteServer:
        """Spawn the child and wait until it serves (a fresh interpreter: no forked threads)."""
        context = multiprocessing.get_context("spawn")
        parent, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child, self.options), daemon=True,
                                        name="chatmini-remote-server")
        self._process.start()
        child.close()
        self._conn = parent
        if not parent.poll(60):
            self.stop()
            raise RuntimeError("the remote test server did not start within 60 s")
        self.base_url = parent.recv()
        return self

    def stats(self) -> dict[str, Any]:
        """The server's and the proxy's counters so far."""
        self._conn.send("stats")
        return self._conn.recv()

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

    def __enter__(self) -> RemoteServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
