"""TVM's XGBoost cost model (MetaSchedule `XGBModel` on `PerStoreFeature`), with its time accounted.

MetaSchedule's default predicts uniform random scores until 100 trials are measured (`num_warmup_samples`),
which is longer than a whole 64-trial run here; LiteCoOp trains it from the first measured round instead.
"""

from __future__ import annotations

import tvm_ffi
from tvm.ir.utils import derived_object
from tvm.s_tir.meta_schedule import TuneContext
from tvm.s_tir.meta_schedule.cost_model import PyCostModel, XGBModel
from tvm.s_tir.meta_schedule.runner import RunnerResult

from litecoop.measure import timing
from litecoop.build.intrinsics import import_tensor_intrinsics


@derived_object
class TimedXGBModel(PyCostModel):
    """Delegates to `XGBModel`; predictions and retraining add to `timing.seconds["cost_model"]`.
    Predictions are normalized throughputs (higher is faster), one float per candidate; they are random
    until `warmup_samples` trials have been measured (or pretrained on)."""

    def __init__(self, warmup_samples: int = 16, cores: int = 2):
        self.inner = XGBModel(num_tuning_cores=cores, tree_method="auto", num_warmup_samples=warmup_samples)

    def load(self, path: str) -> None:
        """Load the XGBoost model from `path`."""
        self.inner.load(path)

    def save(self, path: str) -> None:
        """Save the XGBoost model to `path`."""
        self.inner.save(path)

    def update(self, context, candidates, results) -> None:
        """Retrain on measured `candidates` and their runner `results` (run seconds)."""
        with timing.phase("cost_model"):
            self.inner.update(context, candidates, results)

    def predict(self, context, candidates):
        """Normalized throughput scores of `candidates` (numpy array, higher is faster)."""
        with timing.phase("cost_model"):
            return self.inner.predict(context, candidates)

    def pretrain(self, records, target) -> int:
        """Train on measured `records` (MetaSchedule TuningRecords) of earlier runs, maybe of other shapes:
        each workload is its own group, so its latencies are normalized by its own best (XGBModel's
        per-group throughput ratio). Returns how many records were used."""
        groups = records_by_workload(records)
        import_tensor_intrinsics(target)
        for group in groups:
            context = TuneContext(mod=group[0].workload.mod, target=target, num_threads=2)
            results = [RunnerResult(run_secs=record.run_secs, error_msg=None) for record in group]
            self.update(context, [record.as_measure_candidate() for record in group], results)
        return sum(len(group) for group in groups)


def records_by_workload(records) -> list[list]:
    """Measured TuningRecords (those with run times) grouped by workload (structurally equal modules)."""
    groups: dict[int, list] = {}
    for record in records:
        if record.run_secs:
            groups.setdefault(tvm_ffi.structural_hash(record.workload.mod), []).append(record)
    return list(groups.values())
