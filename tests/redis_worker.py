"""A worker process for the shared-limiter tests: ``python redis_worker.py SETTINGS_JSON``.

``mode: "run"`` sends ``count`` chat requests on ``threads`` threads through a RedisRateLimiter
and prints the send times (wall clock, comparable between processes on one machine) and the
tokens the server reported, as JSON. ``mode: "hold"`` opens ``count`` streams, prints "held"
and waits to be killed while holding their concurrency slots.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import chatmini
from chatmini.plugins.redis_ratelimit import RedisRateLimiter
from chatmini.testing.pacing import SendTimes


def main(settings: dict[str, Any]) -> None:
    limiter = RedisRateLimiter(settings["redis"], **settings["limits"])
    times = SendTimes(clock=time.time)  # comparable between processes
    client = chatmini.Client(api_key="sk-worker", base_url=settings["base_url"],
                             pool_maxsize=settings.get("threads", 4), plugins=[limiter, times])
    request = {"model": "m", "messages": [{"role": "user", "content": settings["prompt"]}],
               **settings.get("extra", {})}
    if settings["mode"] == "hold":
        streams = [client.chat.completions.create(stream=True, **request)
                   for _ in range(settings["count"])]
        print("held", len(streams), flush=True)
        sys.stdin.read()  # killed here
        return
    results = chatmini.batch(client, [request] * settings["count"], workers=settings["threads"])
    limiter.close()
    errors = [repr(r) for r in results if isinstance(r, Exception)]
    used = [r.usage.total_tokens for r in results if not isinstance(r, Exception)]
    print(json.dumps({"sends": times.times, "used": used, "errors": errors}), flush=True)


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
