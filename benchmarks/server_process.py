"""The embedded test server in a child process, so the clients measured do not share its GIL.

``with ServerProcess(latency=0.05) as server:`` gives ``server.base_url``; ``reset()``,
``connections()``, ``requests()``, ``faults()`` and ``cpu_seconds()`` ask the child over a pipe.
"""

from __future__ import annotations

import multiprocessing
import time
from typing import Any

from chatmini.testing import Server


def _serve(conn: Any, settings: dict[str, Any]) -> None:
    server = Server(**settings).start()
    conn.send(server.base_url)
    answers = {
        "reset": server.reset,
        "connections": lambda: server.connections_opened,
        "requests": lambda: len(server.requests),
        "faults": lambda: dict(server.faults.injected),
        "cpu": time.process_time,
    }
    try:
        while True:
            command = conn.recv()
            if command == "stop":
                return
            conn.send(answers[command]())
    finally:
        server.stop()


class ServerProcess:
    """A chatmini.testing.Server with the given settings, running in a spawned process."""

    def __init__(self, **settings: Any) -> None:
        self.settings = settings
        self.base_url = ""

    def __enter__(self) -> ServerProcess:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child, self.settings), daemon=True)
        self._process.start()
        if not self._conn.poll(30):
            raise RuntimeError("the test server process did not start")
        self.base_url = self._conn.recv()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._conn.send("stop")
        self._process.join(10)

    def _ask(self, command: str) -> Any:
        self._conn.send(command)
        return self._conn.recv()

    def reset(self) -> None:
        """Forget recorded requests, connections and fault counts."""
        self._ask("reset")

    def connections(self) -> int:
        """TCP connections accepted since the last reset."""
        return int(self._ask("connections"))

    def requests(self) -> int:
        """Requests received since the last reset."""
        return int(self._ask("requests"))

    def cpu_seconds(self) -> float:
        """CPU time the server process has used so far (all its threads)."""
        return float(self._ask("cpu"))

    def faults(self) -> dict[str, int]:
        """Faults injected since the last reset, by kind (``429``, ``503``, ``drop``)."""
        return dict(self._ask("faults"))
