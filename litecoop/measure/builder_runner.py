"""Builders and runners for measured trials: MetaSchedule's LocalRunner, and a builder that keeps its worker
processes, both timed.

MetaSchedule's LocalBuilder starts a fresh pool of worker processes for every batch, and each worker imports TVM
(and with it torch): ~3 s per batch on this 2-core machine, more than compiling a small batch takes. The
tree search measures small batches, so `TimedBuilder` keeps one pool (TVM's PopenPoolExecutor) and recycles each
worker after `recycle_after` builds instead (the reason LocalBuilder restarts its pool is a slow memory leak in
long-lived workers). The stock build function also imports all of `tvm.s_tir.tensor_intrin` in every worker
(13-30 s); `build_candidate` imports only the target's (`build.intrinsics.import_tensor_intrinsics`).

The worker pools are the process's, not a tune's: a bench, a yardstick or a script that tunes several workloads
in one process starts them once. LocalRunner's constructor starts its worker and waits for it to import TVM (seconds
here), so `TimedRunner` shares one LocalRunner per timeout, and every `TimedBuilder` shares one build pool.
"""

from __future__ import annotations

import functools
import os

from tvm.support.popen_pool import PopenPoolExecutor, StatusKind
from tvm.ir.utils import derived_object
from tvm.s_tir.meta_schedule.builder import BuilderResult, PyBuilder
from tvm.s_tir.meta_schedule.builder.local_builder import default_export
from tvm.s_tir.meta_schedule.runner import EvaluatorConfig, LocalRunner, PyRunner, RPCConfig, RPCRunner, RunnerFuture

from litecoop.build.intrinsics import import_tensor_intrinsics
from litecoop.measure import timing

# TVM's time evaluator as `TimedRunner` documents it
EVALUATOR = EvaluatorConfig(number=1, repeat=3, min_repeat_ms=40, enable_cpu_cache_flush=False)


def mean_run_s(run_secs) -> float | None:
    """The mean in seconds of a TuningRecord's or RunnerResult's `run_secs` (one entry per repeat of
    EvaluatorConfig); None when there are none."""
    times = [float(t) for t in run_secs or ()]
    return sum(times) / len(times) if times else None


def build_candidate(mod, target, _params):
    """Compile one scheduled PrimFunc module (runs in a builder worker process)."""
    from tvm.driver import build
    from tvm.s_tir.transform import RemoveWeightLayoutRewriteBlock

    if target.kind.name != "llvm":  # CPU candidates are built without the registry: tensorized already
        import_tensor_intrinsics(target)

    mod = RemoveWeightLayoutRewriteBlock(skip_tensor_rewrite=True)(mod)
    return build(mod, target=target)


def build_and_export(mod, target) -> str:
    """(In a builder worker) compile one candidate and export it as MetaSchedule's LocalBuilder does; returns
    the path of the exported library, which the runner loads."""
    return default_export(build_candidate(mod, target, None))


@functools.cache
def _build_pool(timeout_s: float, recycle_after: int) -> PopenPoolExecutor:
    """The process's build workers: one per core of this process, each replaced after `recycle_after` builds, or
    when it times out or crashes."""
    return PopenPoolExecutor(max_workers=len(os.sched_getaffinity(0)), timeout=timeout_s,
                             maximum_process_uses=recycle_after)


@functools.cache
def _local_runner(timeout_s: float) -> LocalRunner:
    """The process's LocalRunner for candidates bounded by `timeout_s` seconds (EvaluatorConfig: `TimedRunner`)."""
    return LocalRunner(timeout_sec=timeout_s, evaluator_config=EVALUATOR)


@derived_object
class TimedBuilder(PyBuilder):
    """MetaSchedule's builder on the process's long-lived worker processes (module docstring), whose build time is
    added to `timing.seconds["build"]`. `timeout_s` bounds one candidate's compilation (seconds); a worker is
    replaced after `recycle_after` builds, or when it times out or crashes."""

    def __init__(self, timeout_s: float = 60, recycle_after: int = 64):
        self.timeout_s = timeout_s
        self.pool = _build_pool(timeout_s, recycle_after)

    def build(self, build_inputs):
        """Build the candidates (MetaSchedule BuilderInputs); returns their BuilderResults, in order."""
        with timing.phase("build"):
            outcomes = self.pool.map_with_error_catching(lambda args: build_and_export(*args),
                                                         [(item.mod, item.target) for item in build_inputs])
            return [self._result(outcome) for outcome in outcomes]

    def _result(self, outcome):
        if outcome.status == StatusKind.COMPLETE:
            return BuilderResult(outcome.value, None)
        if outcome.status == StatusKind.TIMEOUT:
            return BuilderResult(None, f"TimedBuilder: timeout, killed after {self.timeout_s} s")
        return BuilderResult(None, f"TimedBuilder: an exception occurred\n{outcome.value}")


@derived_object
class TimedRunner(PyRunner):
    """MetaSchedule's LocalRunner, or its RPCRunner when `rpc_config` names a tracker (each trial asks the
    tracker for a free server with the device key, so a server that dies only fails its trials in flight);
    waits for the results and adds the wait to `timing.seconds["run"]`. A candidate slower than `timeout_s`
    seconds (or crashing) comes back as an error, not a hang.

    A candidate is timed as TVM's time evaluator does: one warm-up call, then 3 repeats of `number` calls, where
    `number` starts at 1 and grows until a repeat lasts 40 ms; so a fast kernel is averaged over many calls, and a
    slow one (a random schedule of a large attention matmul takes seconds) costs 4 calls instead of the 10 that a
    starting `number` of 3 took."""

    def __init__(self, rpc_config: RPCConfig | None = None, timeout_s: float = 30):
        self.inner = RPCRunner(rpc_config, EVALUATOR, max_workers=1) if rpc_config else _local_runner(timeout_s)

    def run(self, runner_inputs):
        """Measure the built candidates and wait for all; returns finished RunnerFutures (run seconds or error)."""
        with timing.phase("run"):
            results = [future.result() for future in self.inner.run(runner_inputs)]
        return [RunnerFuture(f_done=lambda: True, f_result=lambda r=r: r) for r in results]
