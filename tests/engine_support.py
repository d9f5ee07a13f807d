"""One scenario for the Dask and Ray runners (tests/test_batch_engines.py): a batch file run on
a real cluster against the test server with faults, a shared Redis budget, and a worker that is
SIGKILLed mid-task. Its plugins run in the worker processes, so they live in an importable
module. ``python -m tests.engine_support SETTINGS_JSON`` runs the Ray side in its own process
(``ray.init`` is process-wide) and prints what happened as JSON.
"""

from __future__ import annotations

import functools
import json
import os
import signal
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import chatmini
from chatmini.batching.distributed import RunSummary, run_on_dask, run_on_ray

KILL_AT = "q120"  # the worker that receives this answer first dies before using it (80% in)
BAD_LINE = "this line is not JSON"


class SendLog:
    """Appends ``time pid content`` for every attempt to DIR/sends-PID.log, so the test sees
    what each worker process sent, and when (wall clock: comparable between processes)."""

    def __init__(self, directory: str) -> None:
        self.directory = directory

    @chatmini.hookimpl(wrapper=True)
    def chatmini_send(self, request: Any) -> Any:
        content = json.loads(request.body)["messages"][0]["content"]
        with open(os.path.join(self.directory, f"sends-{os.getpid()}.log"), "a") as log:
            log.write(f"{time.time()!r} {os.getpid()} {content}\n")
        return (yield)


class KillOnce:
    """SIGKILLs its own process once the answer to ``content`` has arrived, the first time in
    any process (an O_EXCL marker file, holding the pid, makes it once)."""

    def __init__(self, content: str, marker: str) -> None:
        self.content = content
        self.marker = marker

    @chatmini.hookimpl(wrapper=True)
    def chatmini_send(self, request: Any) -> Any:
        response = yield
        if json.loads(request.body)["messages"][0]["content"] == self.content:
            try:
                fd = os.open(self.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                return response
            os.write(fd, str(os.getpid()).encode())
            os.close(fd)
            os.kill(os.getpid(), signal.SIGKILL)
        return response


def make_client(settings: dict[str, Any]) -> chatmini.Client:
    """A worker process's Client: the shared budget, fast retries, the send log, the kill."""
    limiter = chatmini.RedisRateLimiter(settings["redis"], rpm=settings["rpm"],
                                        key=settings["key"])
    return chatmini.Client(
        api_key="sk-engines", base_url=settings["base_url"], pool_maxsize=8, timeout=(2.0, 10.0),
        retry=chatmini.RetryPolicy(6, backoff_factor=0.01, backoff_jitter=0.0),
        plugins=[limiter, SendLog(settings["dir"]),
                 KillOnce(KILL_AT, os.path.join(settings["dir"], "killed"))],
    )


def write_input(path: Path, count: int) -> list[Any]:
    """``count`` lines: batch-file lines with ids, some bare bodies (known by line number) and
    one unreadable line; the ids in input order."""
    lines, ids = [], []
    for i in range(count):
        number = len(lines) + 1
        if i == count // 2:
            lines.append(BAD_LINE)
            ids.append(number)
        elif i % 10 == 9:
            lines.append(json.dumps({"model": "m", "messages": [
                {"role": "user", "content": f"bare{i}"}]}))
            ids.append(number)
        else:
            lines.append(json.dumps({"custom_id": f"id-{i}", "body": {"model": "m", "messages": [
                {"role": "user", "content": f"q{i}"}]}}))
            ids.append(f"id-{i}")
    path.write_text("".join(line + "\n" for line in lines))
    return ids


def run_scenario(engine: str, settings: dict[str, Any], dask: Any = None) -> dict[str, Any]:
    """Write the input, run it on ``engine`` (``dask``: the Dask client given), and return the
    summary and every logged send."""
    directory = Path(settings["dir"])
    source, out = directory / "requests.jsonl", directory / "results.jsonl"
    ids = write_input(source, settings["count"])
    factory = functools.partial(make_client, settings)
    options = {"chunk_size": 40, "threads": 8, "pending": 8}
    if engine == "dask":
        summary: RunSummary = run_on_dask(dask, source, out, factory, **options)
    else:
        summary = run_on_ray(source, out, factory, **options)
    sends = []
    for log in directory.glob("sends-*.log"):
        for line in log.read_text().splitlines():
            stamp, pid, content = line.split(" ", 2)
            sends.append((float(stamp), int(pid), content))
    return {"summary": asdict(summary), "ids": ids, "sends": sorted(sends),
            "killed": int((directory / "killed").read_text())}


def ray_main(settings: dict[str, Any]) -> None:
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        print(json.dumps(run_scenario("ray", settings)), flush=True)
    finally:
        ray.shutdown()


if __name__ == "__main__":
    ray_main(json.loads(sys.argv[1]))
