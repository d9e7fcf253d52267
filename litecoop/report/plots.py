"""matplotlib, drawn to files: the backend and the saving every plot of the project shares."""

from __future__ import annotations

from pathlib import Path


def pyplot():
    """matplotlib.pyplot on the Agg backend (files, no display), imported only when a plot is drawn."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save(fig, path: Path) -> None:
    """Write a matplotlib figure to `path` (PNG, 120 dpi, tight) and free it."""
    fig.savefig(path, dpi=120, bbox_inches="tight")
    pyplot().close(fig)
