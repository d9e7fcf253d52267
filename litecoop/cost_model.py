"""TVM's XGBoost cost model (MetaSchedule `XGBModel` on `PerStoreFeature`), with its time accounted."""

from __future__ import annotations

from tvm.ir.utils import derived_object
from tvm.s_tir.meta_schedule.cost_model import PyCostModel, XGBModel

from . import timing


@derived_object
class TimedXGBModel(PyCostModel):
    """Delegates to `XGBModel`; predictions and retraining add to `timing.seconds["cost_model"]`.
    Predictions are normalized throughputs (higher is faster), one float per candidate."""

    def __init__(self, cores: int = 2):
        self.inner = XGBModel(num_tuning_cores=cores, tree_method="auto")

    def load(self, path: str) -> None:
        self.inner.load(path)

    def save(self, path: str) -> None:
        self.inner.save(path)

    def update(self, context, candidates, results) -> None:
        with timing.phase("cost_model"):
            self.inner.update(context, candidates, results)

    def predict(self, context, candidates):
        with timing.phase("cost_model"):
            return self.inner.predict(context, candidates)
