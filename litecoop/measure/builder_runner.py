"""Builders and runners for measured trials: MetaSchedule's LocalBuilder/LocalRunner, timed.

The stock LocalBuilder imports `tvm.s_tir.tensor_intrin` in every fresh worker pool, which costs ~30 s
on this 2-core machine per round; CPU candidates need no tensor intrinsics, so `build_candidate` only
imports them for GPU targets, the fast way (`import_tensor_intrinsics`).
"""

from __future__ import annotations

import inspect
import os
import sys

from tvm.ir.utils import derived_object
from tvm.s_tir.meta_schedule.builder import LocalBuilder, PyBuilder
from tvm.s_tir.meta_schedule.runner import EvaluatorConfig, LocalRunner, PyRunner, RPCConfig, RPCRunner, RunnerFuture

from litecoop.measure import timing


def import_tensor_intrinsics() -> None:
    """Import `tvm.s_tir.tensor_intrin`, which every MetaSchedule TuneContext imports, in ~23 s instead of
    ~60 s here. It defines ~100 intrinsics with TVMScript's `@T.prim_func`, which calls `inspect.stack()`:
    reading the source line of every frame scans all of sys.modules each time. The source lines only serve
    to spot prim_funcs written inside classes, and no intrinsic is, so frames are taken without them while
    the module loads."""
    if "tvm.s_tir.tensor_intrin" in sys.modules:
        return
    full_stack = inspect.stack
    inspect.stack = lambda context=1: full_stack(0)
    try:
        import tvm.s_tir.tensor_intrin  # noqa: F401
    finally:
        inspect.stack = full_stack


def mean_run_s(run_secs) -> float | None:
    """The mean in seconds of a TuningRecord's or RunnerResult's `run_secs` (one entry per repeat of
    EvaluatorConfig); None when there are none."""
    times = [float(t) for t in run_secs or ()]
    return sum(times) / len(times) if times else None


def build_candidate(mod, target, _params):
    """Compile one scheduled PrimFunc module (runs in a builder worker process)."""
    from tvm.driver import build
    from tvm.s_tir.transform import RemoveWeightLayoutRewriteBlock

    if target.kind.name != "llvm":
        import_tensor_intrinsics()  # registers the GPU tensor-core intrinsics

    mod = RemoveWeightLayoutRewriteBlock(skip_tensor_rewrite=True)(mod)
    return build(mod, target=target)


@derived_object
class TimedBuilder(PyBuilder):
    """A LocalBuilder with one worker per core of this process, whose build time is added to
    `timing.seconds["build"]`. `timeout_s` bounds one candidate's compilation (seconds)."""

    def __init__(self, timeout_s: float = 60):
        self.inner = LocalBuilder(max_workers=len(os.sched_getaffinity(0)), timeout_sec=timeout_s,
                                  f_build=build_candidate)

    def build(self, build_inputs):
        """Build the candidates (MetaSchedule BuilderInputs); returns their BuilderResults."""
        with timing.phase("build"):
            return self.inner.build(build_inputs)


@derived_object
class TimedRunner(PyRunner):
    """MetaSchedule's LocalRunner, or its RPCRunner when `rpc_config` names a tracker (each trial asks the
    tracker for a free server with the device key, so a server that dies only fails its trials in flight);
    waits for the results and adds the wait to `timing.seconds["run"]`. A candidate slower than `timeout_s`
    seconds (or crashing) comes back as an error, not a hang."""

    def __init__(self, rpc_config: RPCConfig | None = None, timeout_s: float = 30):
        config = EvaluatorConfig(number=3, repeat=3, min_repeat_ms=40, enable_cpu_cache_flush=False)
        self.inner = (RPCRunner(rpc_config, config, max_workers=1) if rpc_config
                      else LocalRunner(timeout_sec=timeout_s, evaluator_config=config))

    def run(self, runner_inputs):
        """Measure the built candidates and wait for all; returns finished RunnerFutures (run seconds or error)."""
        with timing.phase("run"):
            results = [future.result() for future in self.inner.run(runner_inputs)]
        return [RunnerFuture(f_done=lambda: True, f_result=lambda r=r: r) for r in results]
