"""Wall-clock accounting of a run, split by phase (seconds): llm, cost_model, build, run, search."""

from __future__ import annotations

import time
from collections import defaultdict
from contextlib import contextmanager

seconds: dict[str, float] = defaultdict(float)


@contextmanager
def phase(name: str):
    """Add the time spent inside the block to `seconds[name]`."""
    start = time.perf_counter()
    try:
        yield
    finally:
        seconds[name] += time.perf_counter() - start


def reset() -> None:
    seconds.clear()
