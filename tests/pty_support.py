"""A real pseudo-terminal for command line tests: the program runs as a terminal's foreground
job (so typing Ctrl-C sends it SIGINT, Ctrl-D ends its input), and the test types keys and
waits for what the terminal shows, with generous timeouts and no fixed sleeps."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import struct
import sys
import termios
import time
from typing import Mapping, Optional, Sequence

ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[=>]")
WAIT = 30.0  # seconds: far above anything expected, even on a loaded 2-core machine


def plain(raw: str) -> str:
    """What a reader sees: escape sequences and carriage returns removed."""
    return ESCAPE.sub("", raw).replace("\r", "")


class Terminal:
    """``python -m chatmini ARGS`` on a new pseudo-terminal, 24 lines of ``columns``."""

    def __init__(self, args: Sequence[str], env: Mapping[str, str], columns: int = 200) -> None:
        pid, fd = pty.fork()
        if pid == 0:  # the child: the terminal is its controlling terminal, stdin, out and err
            try:
                os.execve(sys.executable, [sys.executable, "-m", "chatmini", *args], dict(env))
            finally:
                os._exit(127)
        self.pid, self.fd = pid, fd
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
        self.raw = ""  # everything shown so far
        self.seen = 0  # how far expect() has matched in plain(raw)
        self.status: Optional[int] = None

    def type(self, keys: str) -> None:
        """Type (or paste, when several lines come in one call) ``keys``. Wait for the prompt
        first: a Ctrl-D typed ahead reaches the line discipline, not readline."""
        os.write(self.fd, keys.encode())

    def _read(self, deadline: float) -> bool:
        """Read what the terminal has; False at the end (the program left)."""
        ready, _, _ = select.select([self.fd], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            return True
        try:
            data = os.read(self.fd, 65536)
        except OSError:  # EIO: the other side closed
            return False
        if not data:
            return False
        self.raw += data.decode("utf-8", "replace")
        return True

    def expect(self, pattern: str, timeout: float = WAIT) -> re.Match[str]:
        """Wait until ``pattern`` (a regex) shows after what was matched before."""
        deadline = time.monotonic() + timeout
        while True:
            match = re.compile(pattern).search(plain(self.raw), self.seen)
            if match:
                self.seen = match.end()
                return match
            if time.monotonic() >= deadline or not self._read(deadline):
                raise AssertionError(f"{pattern!r} not shown ({self._state()}); the terminal "
                                     f"shows:\n{plain(self.raw)[-2000:]}")

    def _state(self) -> str:
        """The program's signal state, where /proc tells it (for failure messages)."""
        try:
            with open(f"/proc/{self.pid}/status") as status:
                return ", ".join(line.strip() for line in status
                                 if line.startswith(("State", "SigBlk", "SigIgn", "SigCgt")))
        except OSError:
            return "no /proc status: it has exited"

    def wait(self, timeout: float = WAIT) -> int:
        """Read to the end and return the exit status."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self._read(deadline):
            pass
        while self.status is None and time.monotonic() < deadline:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = os.waitstatus_to_exitcode(status)
            else:
                time.sleep(0.01)  # polling for the exit, not standing in for sync
        if self.status is None:
            raise AssertionError(f"still running; the terminal shows:\n{plain(self.raw)}")
        return self.status

    def close(self) -> None:
        """Kill the program if it is still running, and close the terminal."""
        if self.status is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
        os.close(self.fd)
