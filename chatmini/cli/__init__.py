"""The ``chatmini`` command line (the console script and ``python -m chatmini``).

``app`` parses the command line and hands it to one command: ``chat`` (its sessions in
``conversation``, the prompt in ``interactive``, ``--api`` in ``apis``, body options in
``params``, the conversation log in ``store``), ``models``, ``logs``, ``batch`` (with
``distributed`` for ``--shard`` and ``--redis``), ``merge`` (``chatmini batch merge``) or
``demo``. ``report`` holds what they share: the program name, the exit statuses and the
one-line messages on stderr; ``terminal`` prints server text safely; ``connect`` makes the
Client. The thread pool itself is library code, in ``chatmini.batching``.
"""

from .app import main
from .report import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE

__all__ = ["EXIT_ERROR", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_USAGE", "main"]
