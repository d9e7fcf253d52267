"""Wall-clock accounting of a run, split by phase (seconds): llm, cost_model, build, run, search."""

from __future__ import annotations

import math
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
    """Forget every phase's seconds (a new run starts)."""
    seconds.clear()


class Deadline:
    """The end of a time-bounded search, shared by the measure callback (which records each batch's pace and
    ends the search on Ctrl-C) and the search strategies, which propose nothing once it is up (their tasks then
    end through the task scheduler's own path) and, for the tree strategies, size their batches to the time left. `budget_s`: seconds, None for no limit; the clock runs
    from `start()`. `min_batch` is the fewest trials a strategy measures in a batch (1 for one that sizes its
    batches, else its batch size): the search ends when less than half such a batch fits."""

    def __init__(self, budget_s: float | None, min_batch: int = 1):
        self.budget_s, self.min_batch = budget_s, min_batch
        self.at: float | None = None
        self.trial_s = 0.0  # seconds per trial in the last batch, its search and build included
        self.ended = False

    def start(self) -> None:
        """Start the clock: the deadline is `budget_s` seconds from now (none without a budget)."""
        self.at = None if self.budget_s is None else time.perf_counter() + self.budget_s

    def end(self) -> None:
        """End the search now, whatever the budget (Ctrl-C)."""
        self.ended = True

    def record(self, batch_s: float, trials: int) -> None:
        """A batch of `trials` took `batch_s` seconds."""
        self.trial_s = batch_s / max(trials, 1)

    def left_s(self) -> float:
        """Seconds left before the deadline; infinite without a budget."""
        return float("inf") if self.at is None else self.at - time.perf_counter()

    def trials_that_fit(self, most: int) -> int:
        """How many of `most` trials fit whole in the time left at the last batch's pace (all before the first).
        Rounded down: a smaller batch spreads its fixed costs (search, builder start) over fewer trials."""
        if self.ended:
            return 0
        if self.at is None or not self.trial_s:
            return most
        return max(0, min(most, math.floor(self.left_s() / self.trial_s)))

    def is_up(self) -> bool:
        """Whether less than half of a smallest batch (`min_batch` trials at the last pace) fits in the time left."""
        return self.ended or self.left_s() < self.trial_s * self.min_batch / 2
