"""``chatmini models``: the models the server offers, one id a line (or the whole list as
JSON), an error as one line on stderr."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..errors import ChatminiError
from .apis import as_dict
from .connect import credentials, open_client
from .report import EXIT_ERROR, EXIT_OK, report
from .terminal import Printer, json_text


def add_models_command(commands: Any) -> None:
    """Add ``models`` to the ``chatmini`` subcommands."""
    models = commands.add_parser(
        "models", help="list the models the server offers",
        description="List the models the server offers (GET /models), one id a line.",
    )
    models.add_argument("--json", action="store_true", help="print the whole answer as JSON")
    models.add_argument("--base-url", help="API base URL (default: OPENAI_BASE_URL or OpenAI's)")
    models.add_argument("--timeout", type=float, help="seconds to wait for the server")


def run_models(args: argparse.Namespace) -> int:
    """Run the command: 0 with the list on stdout, 1 on an error."""
    printer = Printer(sys.stdout)
    client = None
    try:
        client = open_client(args.base_url, args.timeout)
        listing = client.models.list()
    except ChatminiError as exc:
        report(str(exc), credentials())
        return EXIT_ERROR
    finally:
        if client is not None:
            client.close()
    if args.json:
        printer.write(json_text(as_dict(listing)) + "\n")
        return EXIT_OK
    for model in listing.data:
        ident = model.id
        printer.write(f"{ident if isinstance(ident, str) else '?'}\n")
    return EXIT_OK
