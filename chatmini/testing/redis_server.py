"""A real ``redis-server`` on a free loopback port, for tests and benchmarks of the shared
limiter: no persistence, no unix socket, stopped by its owner. Needs Debian's ``redis-server``."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from typing import Any, Optional

INSTALL_HINT = ("redis-server is not installed (Debian: apt-get install redis-server; "
                ".ci/run installs it)")


class RedisServerUnavailable(RuntimeError):
    """redis-server is not installed, or did not start."""


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """``redis-server --port N --bind 127.0.0.1`` in a child process; ``url`` points at it."""

    def __init__(self, port: Optional[int] = None, password: Optional[str] = None) -> None:
        self.binary = shutil.which("redis-server")
        self.port = port or free_port()
        self.password = password
        self.process: Optional[subprocess.Popen[bytes]] = None

    @property
    def url(self) -> str:
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        """Start the server (again, on the same port, after ``stop``) and wait until it answers."""
        if self.binary is None:
            raise RedisServerUnavailable(INSTALL_HINT)
        command = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1",
                   "--save", "", "--appendonly", "no", "--unixsocket", "",
                   "--daemonize", "no", "--loglevel", "warning"]
        if self.password:
            command += ["--requirepass", self.password]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not self._answers():  # the server is up when it answers PING
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RedisServerUnavailable(f"redis-server did not start on port {self.port}")
            time.sleep(0.02)
        return self

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                if self.password:
                    sock.sendall(f"AUTH {self.password}\r\n".encode())
                    sock.recv(64)
                sock.sendall(b"PING\r\n")
                return sock.recv(64).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL) and wait for it to exit."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)

    def client(self) -> Any:
        """A redis-py client for this server (redis-py is imported here, not before)."""
        import redis

        return redis.Redis.from_url(self.url, socket_timeout=2, socket_connect_timeout=2)

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
