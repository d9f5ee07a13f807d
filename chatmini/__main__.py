"""``python -m chatmini``: the same command line as the ``chatmini`` console script."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
