"""A synthetic latency per schedule and the exact cost model of it, for search tests that need outcomes without
building anything (the one stand-in for measurements: real builds take seconds each)."""

import random

import numpy as np
from tvm.ir.utils import derived_object
from tvm.s_tir.meta_schedule.cost_model import PyCostModel

from litecoop.search.space import decisions_key


def synthetic_latency_s(schedule) -> float:
    """A deterministic latency in [1, 11) ms per distinct set of decisions."""
    return 1e-3 * (1 + random.Random(decisions_key(schedule.trace)).random() * 10)


@derived_object
class SyntheticCostModel(PyCostModel):
    """Scores = normalized throughput of the synthetic latency, as XGBModel's would be if it were exact."""

    def load(self, path):
        pass

    def save(self, path):
        pass

    def update(self, context, candidates, results):
        pass

    def predict(self, context, candidates):
        return np.array([1e-3 / synthetic_latency_s(c.sch) for c in candidates])
