"""A MetaSchedule search strategy bounded by a deadline: TVM's own strategies (EvolutionarySearch,
ReplayTrace) under `--time-budget` or Ctrl-C."""

from __future__ import annotations

from tvm.ir.utils import derived_object
from tvm.s_tir.meta_schedule.search_strategy import PySearchStrategy

from litecoop.measure.timing import Deadline


@derived_object
class BoundedSearch(PySearchStrategy):
    """`inner` (a MetaSchedule SearchStrategy) until `deadline` (timing.Deadline) is up; then it proposes
    nothing, so that the task scheduler ends the task (ending it from a measure callback can fail a check of
    the gradient scheduler, which may be joining that very task)."""

    def __init__(self, inner, deadline: Deadline):
        self.inner, self.deadline = inner, deadline

    def _initialize_with_tune_context(self, context) -> None:
        self.inner._initialize_with_tune_context(context)

    def pre_tuning(self, max_trials, num_trials_per_iter, design_spaces, database=None, cost_model=None) -> None:
        self.inner.pre_tuning(max_trials, num_trials_per_iter, design_spaces, database, cost_model)

    def post_tuning(self) -> None:
        self.inner.post_tuning()

    def generate_measure_candidates(self):
        return None if self.deadline.is_up() else self.inner.generate_measure_candidates()

    def notify_runner_results(self, measure_candidates, results) -> None:
        self.inner.notify_runner_results(measure_candidates, results)

    def clone(self):
        return BoundedSearch(self.inner.clone(), self.deadline)
