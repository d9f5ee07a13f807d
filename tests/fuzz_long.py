"""The long fuzz run (not collected by pytest): the properties of tests/test_fuzz.py, for minutes.

Usage, from the repository root: ``python -m tests.fuzz_long [--seconds N] [--examples N]
[--hypothesis]``. With atheris installed (``pip install atheris``; not a test dependency) it
fuzzes the pure layers coverage-guided for ``--seconds``; otherwise, or with ``--hypothesis``,
hypothesis runs ``--examples`` examples of each property. Either way the arbitrary-bytes
stream property then runs over real sockets. Exit status 0: nothing found.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any, Callable

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chatmini
from chatmini.testing import Server

from .conftest import SECRET_KEY
from .test_fuzz import (
    check_chunks,
    check_error_body,
    check_parser,
    check_stream_bytes,
    check_stream_payload,
    json_values,
    stream_bytes,
)
from .test_sse import _sse_bytes

MAX_LEN = 4096


def one_input(data: bytes) -> None:
    """An atheris target: the first byte picks a property, the rest becomes its input."""
    import atheris

    fdp = atheris.FuzzedDataProvider(data)
    kind = fdp.ConsumeIntInRange(0, 3)
    if kind == 0:
        cuts = [fdp.ConsumeIntInRange(0, MAX_LEN) for _ in range(fdp.ConsumeIntInRange(0, 8))]
        check_parser(fdp.ConsumeBytes(MAX_LEN), cuts)
    elif kind == 1:
        status = fdp.ConsumeIntInRange(400, 599)
        head, tail = fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 400)), fdp.ConsumeBytes(MAX_LEN)
        check_error_body(status, head + (SECRET_KEY.encode() if fdp.ConsumeBool() else b"") + tail)
    else:
        try:
            value = json.loads(fdp.ConsumeUnicodeNoSurrogates(MAX_LEN))
        except (ValueError, RecursionError):
            return
        if kind == 2:
            check_chunks(value if isinstance(value, list) else [value])
        else:
            check_stream_payload(value)


def run_atheris(seconds: int) -> None:
    import atheris

    atheris.instrument_all()
    atheris.Setup([sys.argv[0], f"-max_total_time={seconds}", "-print_final_stats=1"],
                  one_input)
    atheris.Fuzz()  # exits the process (status 0 when nothing was found)


def run_hypothesis(examples: int) -> list[str]:
    """Each pure property with ``examples`` examples; returns a line per property."""
    long = settings(max_examples=examples, deadline=None, database=None)
    properties: dict[str, Callable[..., Any]] = {
        "event-stream parser, cut anywhere": given(
            _sse_bytes | st.binary(max_size=MAX_LEN), st.lists(st.integers(0, MAX_LEN)))(
            check_parser),
        "chunk accumulator, any JSON": given(st.lists(json_values, max_size=20))(check_chunks),
        "error bodies, with the key": given(st.integers(400, 599), st.binary(max_size=600) | st.tuples(
            st.text(max_size=300), st.text(max_size=40)).map(
            lambda p: (p[0] + SECRET_KEY + p[1]).encode()))(check_error_body),
        "stream error payloads": given(json_values)(check_stream_payload),
    }
    return [_timed(name, long(test)) for name, test in properties.items()]


def run_sockets(examples: int) -> str:
    """The arbitrary-bytes stream property over real sockets."""
    with Server() as server, chatmini.Client(api_key=SECRET_KEY, base_url=server.base_url,
                                            max_retries=0, timeout=(5, 5)) as client:
        test = settings(max_examples=examples, deadline=None, database=None,
                        suppress_health_check=list(HealthCheck))(
            given(stream_bytes)(lambda body: check_stream_bytes(server, client, body)))
        line = _timed("whole streams over sockets, any bytes", test)
        assert client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "hi"}]).choices
    return line


def _timed(name: str, test: Callable[[], None]) -> str:
    start = time.monotonic()
    test()
    return f"| {name} | {time.monotonic() - start:.1f} s | no failure |"


def main() -> int:
    parser = argparse.ArgumentParser(description="chatmini's long fuzz run")
    parser.add_argument("--seconds", type=int, default=300, help="atheris run time")
    parser.add_argument("--examples", type=int, default=20_000, help="hypothesis examples each")
    parser.add_argument("--socket-examples", type=int, default=2_000)
    parser.add_argument("--hypothesis", action="store_true", help="hypothesis even with atheris")
    args = parser.parse_args()
    print(f"| property ({args.socket_examples:,} socket examples; hypothesis: {args.examples:,} "
          "each) | time | result |\n| :--- | ---: | :--- |")
    print(run_sockets(args.socket_examples), flush=True)
    try:
        import atheris  # noqa: F401
    except ImportError:
        args.hypothesis = True
    if args.hypothesis:
        print("\n".join(run_hypothesis(args.examples)))
        return 0
    run_atheris(args.seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
