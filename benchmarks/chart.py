"""The PNG beside the Markdown report: one bar chart per Panel, plus machine, versions, command.

matplotlib is optional (``pip install 'chatmini[bench]'``); without it ``write_chart`` returns
a note saying so and the report is written without a chart.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Optional, Sequence

from harness import Panel, num

COLORS = (  # the first keyword found in a client's name picks its colour
    ("chatmini", "#2b7bba"),
    ("openai", "#d1603d"),
    ("requests", "#6a9f58"),
    ("http.client", "#8c8c8c"),
)
OTHER = "#b5a2d0"
COLUMNS = 2


def color(name: str) -> str:
    """The same colour for a client in every panel."""
    return next((c for key, c in COLORS if key in name), OTHER)


def write_chart(panels: Sequence[Panel], footer: Sequence[str], path: Path) -> Optional[str]:
    """Draw ``panels`` into ``path``; returns None when written, else why not."""
    if not panels:
        return "no chart: no section drew one"
    try:
        import matplotlib
    except ImportError:
        return "chart skipped: matplotlib is not installed (pip install 'chatmini[bench]')"
    matplotlib.use("Agg")  # no display needed
    import matplotlib.pyplot as plt

    rows = math.ceil((len(panels) + 1) / COLUMNS)  # one more cell for the footer text
    fig, axes = plt.subplots(rows, COLUMNS, figsize=(12, 2.6 * rows), squeeze=False)
    cells = [ax for row in axes for ax in row]
    for ax, panel in zip(cells, panels):
        draw(ax, panel)
    text = cells[len(panels)]
    text.axis("off")
    text.text(0, 1, "\n".join(footer), va="top", ha="left", fontsize=8, wrap=True,
              family="monospace")
    for ax in cells[len(panels) + 1:]:
        ax.axis("off")
    fig.suptitle("chatmini vs the openai SDK, requests and bare http.client (loopback)",
                 fontsize=13)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return None


def draw(ax: Any, panel: Panel) -> None:
    """One horizontal bar per client, labelled with its value; better is named in the title."""
    names = list(panel.values)
    values = [panel.values[n] for n in names]
    bars = ax.barh(names, values, color=[color(n) for n in names])
    ax.invert_yaxis()
    better = "higher is better" if panel.higher_is_better else "lower is better"
    ax.set_title(f"{panel.title} ({panel.unit}, {better})", fontsize=10)
    ax.bar_label(bars, labels=[num(v) for v in values], padding=3, fontsize=8)
    ax.margins(x=0.18)
    ax.tick_params(labelsize=8)
