"""``chatmini batch`` across processes and machines: ``--shard I/N`` takes a stable share of
the input, and ``--redis`` makes the rate limits one budget shared through Redis."""

from __future__ import annotations

import argparse
import zlib
from typing import TYPE_CHECKING, Any, Callable, Optional

if TYPE_CHECKING:
    from ..batching.files import Key

FAIL_MODES = ("open", "closed")


def shard_spec(text: str) -> tuple[int, int]:
    """argparse type: ``I/N`` with 1 <= I <= N (shard I of N)."""
    try:
        index, count = (int(part) for part in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected I/N such as 1/4, not {text!r}") from None
    if count < 1 or not 1 <= index <= count:
        raise argparse.ArgumentTypeError(f"shards are numbered 1 to N (1/{max(count, 1)} to "
                                         f"{max(count, 1)}/{max(count, 1)}), not {text}")
    return index, count


def shard_of(key: Key, count: int) -> int:
    """The shard (1..count) a job belongs to: a CRC-32 of its id, the same on every machine
    and Python (``hash()`` is salted per process)."""
    return zlib.crc32(str(key).encode("utf-8")) % count + 1


def shard_filter(spec: Optional[tuple[int, int]]) -> Callable[[Key], bool]:
    """Whether a job id is this run's to send (always, without ``--shard``)."""
    if spec is None:
        return lambda key: True
    index, count = spec
    return lambda key: shard_of(key, count) == index


def add_distributed_options(batch: argparse.ArgumentParser) -> None:
    """``--shard`` and the shared-limiter options of ``chatmini batch``."""
    batch.add_argument("--shard", type=shard_spec, metavar="I/N",
                       help="send only shard I of N (by a stable hash of each id); give each "
                       "shard its own OUTPUT, then join them with 'chatmini batch merge'")
    batch.add_argument("--redis", nargs="?", const="", metavar="URL",
                       help="share --rpm/--tpm/--max-concurrent through Redis with every run "
                       "using the same URL and --redis-key (URL default: CHATMINI_REDIS_URL)")
    batch.add_argument("--redis-key", default="default",
                       help="the shared budget's name, e.g. the account (default 'default')")
    batch.add_argument("--fail-mode", choices=FAIL_MODES, default="open",
                       help="when Redis does not answer: 'open' limits each run on its own, "
                       "'closed' fails the requests (default open)")


def shared_limiter(args: argparse.Namespace) -> Any:
    """The RedisRateLimiter the options ask for (``--redis`` with at least one limit)."""
    from ..errors import InvalidRequestError
    from ..plugins.redis_ratelimit import RedisRateLimiter

    if not (args.rpm or args.tpm or args.max_concurrent):
        raise InvalidRequestError("--redis shares limits: give --rpm, --tpm or --max-concurrent")
    return RedisRateLimiter(
        args.redis or None, rpm=args.rpm, tpm=args.tpm, max_concurrent=args.max_concurrent,
        key=args.redis_key, fail_mode=args.fail_mode,
    )


def close_shared(client: Any) -> None:
    """Settle what the client's shared limiter still holds (at the end of a run)."""
    from ..plugins.redis_ratelimit import RedisRateLimiter

    for plugin in client.plugin_manager.get_plugins():
        if isinstance(plugin, RedisRateLimiter):
            plugin.close()
