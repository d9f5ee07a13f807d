"""The ``chatmini`` command line (the console script and ``python -m chatmini``).

``app`` parses the command line and hands it to one command: ``chat``, ``batch`` (with
``distributed`` for ``--shard`` and ``--redis``), ``merge`` (``chatmini batch merge``) or
``demo``. ``report`` holds what they share: the program name, the exit statuses and the
one-line messages on stderr. The thread pool itself is library code, in ``chatmini.batching``.
"""

from .app import main
from .report import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE

__all__ = ["EXIT_ERROR", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_USAGE", "main"]
