"""Results files joined into one in the input's order: each id's final result line (the last one
for it in its file; across files a success wins over a failure), and what did not add up.
``chatmini batch merge`` and the distributed runner (``distributed``) both write through here."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Sequence

from .files import Key, read_record


@dataclass
class MergeSummary:
    """What a merged file holds: a result line for ``written`` input ids (``failed`` of them
    errors); the input ids with no result (``missing``) and result ids not in the input
    (``unexpected``: left out, or kept after the others)."""

    written: int = 0
    failed: int = 0
    missing: list[Key] = field(default_factory=list)
    unexpected: list[Key] = field(default_factory=list)


class Merged:
    """Each id's final result line across the files read, and what did not add up.

    Every line is held in memory until ``write``: a merge needs as much memory as its results.
    """

    def __init__(self) -> None:
        self.lines: dict[Key, tuple[str, bool]] = {}  # id -> (result line, succeeded)
        self.duplicated: dict[Key, int] = {}  # id -> number of files holding it
        self.unreadable = 0

    def add_file(self, path: str) -> None:
        """Read one results file; within it the last line for an id wins."""
        final: dict[Key, tuple[str, bool]] = {}
        with open(path, encoding="utf-8") as lines:
            for text in lines:
                if not text.strip():
                    continue
                read = read_record(text)
                if read is None:
                    self.unreadable += 1
                    continue
                final[read[0]] = (text if text.endswith("\n") else text + "\n", read[1])
        for key, result in final.items():
            earlier = self.lines.get(key)
            if earlier is not None:
                self.duplicated[key] = self.duplicated.get(key, 1) + 1
                if earlier[1] and not result[1]:
                    continue  # keep a success over a later failure
            self.lines[key] = result

    def write(self, order: Sequence[Key], path: str, keep_unexpected: bool = False) -> MergeSummary:
        """Write one line per id of ``order`` that has a result, in that order, to ``path``
        (through ``path.partial`` and a rename, so a reader never sees half a file).
        ``keep_unexpected`` appends the ids not in ``order`` after them instead of leaving
        them out."""
        known = set(order)
        summary = MergeSummary(
            missing=[key for key in order if key not in self.lines],
            unexpected=[key for key in self.lines if key not in known],
        )
        kept = [key for key in order if key in self.lines]
        summary.written = len(kept)
        summary.failed = sum(1 for key in kept if not self.lines[key][1])
        if keep_unexpected:
            kept += summary.unexpected
        temporary = f"{path}.partial"
        with open(temporary, "w", encoding="utf-8") as out:
            out.writelines(self.lines[key][0] for key in kept)
        os.replace(temporary, path)
        return summary
