"""The real redis-server of chatmini.testing for tests: a test needing one is skipped, saying
why, when redis-server is not installed (.ci/run installs Debian's)."""

from __future__ import annotations

import pytest

from chatmini.testing.redis_server import RedisServer as _RedisServer
from chatmini.testing.redis_server import RedisServerUnavailable


class RedisServer(_RedisServer):
    """chatmini.testing's RedisServer, skipping the test when it cannot start."""

    def start(self) -> RedisServer:
        try:
            super().start()
        except RedisServerUnavailable as exc:
            pytest.skip(str(exc))
        return self
