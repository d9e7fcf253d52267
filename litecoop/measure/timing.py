"""Wall-clock accounting of a run, split by phase (seconds): llm, cost_model, build, run, search; the deadline of
a time budget; and the alternated timing of contenders (`time_contenders`)."""

from __future__ import annotations

import math
import random
import time
from collections import defaultdict
from contextlib import contextmanager
from typing import Callable

import numpy as np

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
    batches, else its batch size): the search ends when less than half such a batch fits.

    MetaSchedule's task scheduler gives every one of the `tasks` a batch before it collects any result, so no
    pace is known during that first round: its batches are capped at `first_batch` trials, sized so that the
    round takes at most half the budget at ASSUMED_TRIAL_S per trial (at least 2 trials, so that every task has a
    scheduled build). Uncapped, ResNet-50's 44 tasks x 16 trials took 15 minutes of a 3-minute budget."""

    ASSUMED_TRIAL_S = 1.0  # build + run of one trial on 2 cores, before any is measured (seen: 0.5-1.5 s)

    def __init__(self, budget_s: float | None, min_batch: int = 1, tasks: int = 1):
        self.budget_s, self.min_batch = budget_s, min_batch
        self.first_batch = (max(2, math.floor(budget_s / 2 / (max(tasks, 1) * self.ASSUMED_TRIAL_S)))
                            if budget_s is not None else None)
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
        """How many of `most` trials fit whole in the time left at the last batch's pace (before any batch has
        been measured: `first_batch` while time is left). Rounded down: a smaller batch spreads its fixed costs
        (search, builder start) over fewer trials."""
        if self.ended or self.left_s() <= 0:
            return 0
        if self.at is None:
            return most
        if not self.trial_s:
            return min(most, self.first_batch)
        return max(0, min(most, math.floor(self.left_s() / self.trial_s)))

    def is_up(self) -> bool:
        """Whether less than half of a smallest batch (`min_batch` trials at the last pace) fits in the time left."""
        return self.ended or self.left_s() < self.trial_s * self.min_batch / 2


def _sample_size(call: Callable[..., np.ndarray], inputs: list[np.ndarray], sample_s: float) -> int:
    """How many back-to-back calls last ~`sample_s` seconds (at least one). Calls `call` once to warm up, then in
    batches of 1, 2, 4, ... calls until a batch lasts a fifth of `sample_s` (one batch of one call for a call that
    long), so that one call slowed down by the machine does not size every sample."""
    call(*inputs)
    batch = 1
    while True:
        start = time.perf_counter()
        for _ in range(batch):
            call(*inputs)
        elapsed = time.perf_counter() - start
        if elapsed >= sample_s / 5:
            return max(1, round(sample_s / max(elapsed / batch, 1e-9)))
        batch *= 2


def time_contenders(calls: dict[str, Callable[..., np.ndarray]], inputs: list[np.ndarray], repeat: int = 10,
                    seed: int = 0, sample_s: float = 0.05, settle_s: float = 0.1) -> dict[str, list[float]]:
    """`repeat` latency samples in seconds of each contender, `{name: [seconds, ...]}` in the order of `calls`.

    Every contender is called the same way, `call(*inputs)` on the same arrays. The contenders alternate in one
    series, each round in an order shuffled anew (seeded by `seed`), so that machine drift and each one's
    position after another hit all alike. A sample is the mean seconds per call over enough back-to-back calls
    to last ~`sample_s` seconds (sized once per contender before the series, at least one call), preceded by `settle_s` seconds of
    unmeasured calls of the same contender (none for a lone contender): the previous contender's thread pools
    (TVM's, OpenMP's, onnxruntime's, OpenVINO's) keep spinning for a while after its last call and would slow
    this one down. Raises whatever a contender raises."""
    names = list(calls)
    numbers = {name: _sample_size(calls[name], inputs, sample_s) for name in names}
    samples: dict[str, list[float]] = {name: [] for name in names}
    order = random.Random(seed)
    for _ in range(repeat):
        order.shuffle(names)
        for name in names:
            call, number = calls[name], numbers[name]
            if len(names) > 1:
                settled_at = time.perf_counter() + settle_s
                while time.perf_counter() < settled_at:
                    call(*inputs)
            start = time.perf_counter()
            for _ in range(number):
                call(*inputs)
            samples[name].append((time.perf_counter() - start) / number)
    return {name: samples[name] for name in calls}
