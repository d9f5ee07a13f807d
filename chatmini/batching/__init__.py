"""Many calls from blocking code on a pool of threads: ``batch`` and ``batch_iter`` (``run``),
the worker threads and their Ctrl-C handling (``workers``), the stderr bar (``progress``), and
the JSONL job and result files of ``chatmini batch`` (``files``).

This is library code: it never imports the command line (``chatmini.cli``), which uses it.
``chatmini.batch``, ``chatmini.batch_iter`` and ``chatmini.BatchInterrupted`` load this package
on first use, so ``import chatmini`` does not start with it.
"""

from .run import PoolSizeWarning, batch, batch_iter
from .workers import BatchInterrupted

__all__ = ["BatchInterrupted", "PoolSizeWarning", "batch", "batch_iter"]
