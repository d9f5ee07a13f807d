"""Run the chatmini test server in the foreground: ``python -m chatmini.testing``."""

from __future__ import annotations

import argparse
import signal
import sys
import time
from typing import Any

from .replies import FRAMINGS, PER_EVENT
from .server import Server


def _interrupt(signum: int, frame: Any) -> None:
    """Turn SIGTERM into KeyboardInterrupt so the server shuts down cleanly."""
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, serve until interrupted, and print the base URL on stdout."""
    parser = argparse.ArgumentParser(
        prog="python -m chatmini.testing",
        description="Run a local OpenAI-compatible test server (default replies only).")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to bind (default: %(default)s)")
    parser.add_argument("--port", type=int, default=8000,
                        help="port to bind, 0 for any free port (default: %(default)s)")
    parser.add_argument("--framing", choices=FRAMINGS, default=PER_EVENT,
                        help="how streams are written: each event its own HTTP chunk, as real "
                        "servers do, or all of them in one write (default: %(default)s)")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)
    server = Server(host=args.host, port=args.port, framing=args.framing).start()
    print(server.base_url, flush=True)
    print("chatmini test server running; press Ctrl+C to stop", file=sys.stderr, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
