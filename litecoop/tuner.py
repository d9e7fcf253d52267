"""`litecoop tune`: a workload in, a tuned library, a TVM tuning database and a report out.

Flow: Relax module -> fusion (the same passes the final build runs; on CPUs weights marked layout-free) -> MetaSchedule task extraction ->
one TuneContext per task with the chosen search strategy -> TVM's gradient task scheduler under one
global trial budget -> `compile_tuned` from the database (weights prepacked at build time) -> latency and correctness checks.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import tvm
from tvm import relax
from tvm.ir.utils import derived_object
from tvm.relax.backend.cpu_generic import pipeline as cpu_pipeline
from tvm.s_tir import meta_schedule as ms
from tvm.s_tir.meta_schedule.measure_callback import PyMeasureCallback
from tvm_ffi import structural_hash

from . import latency, library, records, strategies, timing
from .cost_model import TimedXGBModel, records_by_workload
from .errors import UserError
from .fast_math import LEGALIZE
from .llm.team import Team
from .measure import TimedBuilder, TimedRunner, import_tensor_intrinsics, mean_run_s
from .search_settings import SearchSettings
from .tune_config import TuneConfig
from .strategy import TreeSearch
from .workloads import Workload

logging.getLogger("tvm.s_tir.meta_schedule").setLevel(logging.WARNING)


def _cpu_pipeline(target) -> bool:
    """Whether `target` builds with this project's CPU pipeline: fast float32 math (litecoop.fast_math) and
    weights prepacked at build time; other targets build with MetaSchedule's `compile_relax`."""
    return target.kind.name == "llvm"


def _fusion_passes(target) -> list:
    cpu = _cpu_pipeline(target)
    passes = [*relax.pipeline.library_dispatch_passes(target), relax.transform.LegalizeOps(LEGALIZE if cpu else None),
              relax.transform.AnnotateTIROpPattern(), relax.transform.FoldConstant(),
              relax.transform.FuseOps(), relax.transform.FuseTIR()]
    return passes + [relax.transform.AttachAttrLayoutFreeBuffers()] if cpu else passes


def fuse(mod, target):
    """Legalize and fuse a Relax module as `compile_tuned` does, so task keys match. On CPUs transcendental
    operators legalize to fast float32 approximations (litecoop.fast_math) and the fused functions mark their
    constant (weight) buffers layout-free, so that tuning may choose their layout."""
    with target:
        return tvm.transform.Sequential(_fusion_passes(target))(mod)


def prepacked_module(database, mod, target):
    """`mod` fused, with the schedules in `database` (a MetaSchedule Database) applied, and on CPUs the weight
    layout transforms that tuning chose (MetaSchedule's RewriteLayout) split out of the kernels and folded into
    the constants (SplitLayoutRewritePreproc, LiftTransformParams, FoldConstant, as in TVM's
    `static_shape_tuning_pipeline(cpu_weight_prepack=True)`): a call reads prepacked weights instead of repacking
    them. Returns the Relax IRModule before lowering; call inside `with target, database`."""
    mod = tvm.transform.Sequential(_fusion_passes(target))(mod)
    mod = relax.transform.MetaScheduleApplyDatabase()(mod)
    if not _cpu_pipeline(target):
        return mod
    return tvm.transform.Sequential([relax.transform.SplitLayoutRewritePreproc(), relax.transform.LiftTransformParams(),
                                     relax.transform.FoldConstant()])(mod)


def compile_tuned(database, mod, target, library_matmuls=()):
    """Build `mod` with the schedules in `database`; returns a relax.VMExecutable. The matmuls whose signature
    is in `library_matmuls` call the library path (litecoop.library). On CPUs the weights are prepacked at
    build time (`prepacked_module`); other targets build with MetaSchedule's `compile_relax`."""
    mod = library.dispatch(mod, library_matmuls) if library_matmuls else mod
    if not _cpu_pipeline(target):
        return ms.relax_integration.compile_relax(database, mod, target, None)
    # relax.pipeline.dataflow_lower_passes fails for llvm in TVM 0.27 (cpu_generic does not export it)
    lower = [*cpu_pipeline.dataflow_lower_passes(target), *cpu_pipeline.finalize_passes(target)]

    @tvm.transform.module_pass(opt_level=3)
    def pipeline(mod, _ctx):
        return tvm.transform.Sequential(lower)(prepacked_module(database, mod, target))

    with target, database, tvm.transform.PassContext(opt_level=3):
        return relax.build(mod, target=target, relax_pipeline=pipeline)


def compile_choosing_library(database, workload: Workload, target, repeat: int = 5) -> tuple:
    """Build `workload` with the schedules in `database`, choosing per matmul signature between the tuned
    kernel and the library path (litecoop.library) by measurement: signatures in order of FLOPs (largest first)
    each get one extra build that also sends them to the library, kept when its median latency over `repeat`
    interleaved samples is at least 2% lower and its output still correct. Only on CPUs (elsewhere: no library
    path). Returns (relax.VMExecutable, one dict per tried signature: signature, calls, without_s, with_s,
    taken)."""
    executable = compile_tuned(database, workload.mod, target)
    signatures = library.matmul_signatures(workload.mod) if _cpu_pipeline(target) else {}
    chosen, tried = [], []
    if not signatures:
        return executable, tried
    device = latency.device_of(target)
    args = latency.device_inputs(workload.inputs, device)
    for signature in sorted(signatures, key=lambda s: library.flops(s) * signatures[s], reverse=True):
        candidate = compile_tuned(database, workload.mod, target, [*chosen, signature])
        (current, trial), (_, output) = latency.interleaved_latency_samples([executable, candidate], args, device, repeat)
        without_s, with_s = float(np.median(current)), float(np.median(trial))
        taken = with_s < 0.98 * without_s and workload.is_correct(workload.max_abs_error(output))
        tried.append({"signature": [list(shape) for shape in signature], "calls": signatures[signature],
                      "without_s": without_s, "with_s": with_s, "taken": taken})
        if taken:
            chosen.append(signature)
            executable = candidate
    return executable, tried


def extract_tasks(mod, target) -> tuple[list, int]:
    """MetaSchedule's tasks of `mod` fused as the build fuses it (`fuse`), and on CPUs after them the tasks that
    only the library path has (the epilogues of matmuls sent to it, e.g. bias and GELU), so that
    `compile_choosing_library` compares tuned code with tuned code. Returns (ExtractedTasks, how many come
    before the library path's own)."""
    tasks = list(ms.relax_integration.extract_tasks(fuse(mod, target), target))
    signatures = library.matmul_signatures(mod) if _cpu_pipeline(target) else {}
    own = len(tasks)
    if signatures:
        known = {structural_hash(task.mod) for task in tasks}
        dispatched = ms.relax_integration.extract_tasks(fuse(library.dispatch(mod, signatures), target), target)
        tasks += [task for task in dispatched if structural_hash(task.mod) not in known]
    return tasks, own


def warm_start_records(db_dir: Path, per_workload: int = 32) -> tuple:
    """The `per_workload` best TuningRecords of each workload in the database in `db_dir`, ordered by
    latency relative to the best of their own workload (best first). Raises UserError without a database."""
    if not records.has_database(db_dir):
        raise UserError(f"--warm-start: no tuning database in {db_dir}")
    ranked = []
    for group in records_by_workload(records.open_database(db_dir).get_all_tuning_records()):
        group.sort(key=lambda record: mean_run_s(record.run_secs))
        best_s = mean_run_s(group[0].run_secs)
        ranked += [(mean_run_s(record.run_secs) / best_s, record) for record in group[:per_workload]]
    return tuple(record for _, record in sorted(ranked, key=lambda pair: pair[0]))


@derived_object
class ProgressCallback(PyMeasureCallback):
    """After each measured batch: advance the progress bar, record trials and best-so-far per task and the
    batch's pace in `deadline` (timing.Deadline), which it ends once `stop` is set (Ctrl-C). It never ends a
    task itself: MetaSchedule's gradient scheduler may be joining that very task (it then fails a check); every
    strategy stops proposing once the deadline is up, and the scheduler ends its task.

    `history` gets one (trials so far, estimated total latency in s, seconds since start) per batch once
    every task has a measurement; the estimate is the weighted sum of each task's best measured latency."""

    def __init__(self, weights: list[float], on_batch, stop: threading.Event, deadline: timing.Deadline):
        self.weights = weights
        self.stop = stop
        self.deadline = deadline
        self.best: dict[int, float] = {}
        self.trials_by_task: Counter = Counter()
        self.trials = 0
        self.history: list[tuple[int, float, float]] = []
        self.on_batch = on_batch
        self.start = self.batch_start = time.perf_counter()

    def apply(self, task_scheduler, task_id, measure_candidates, builder_results, runner_results) -> None:
        for result in runner_results:
            latency = mean_run_s(result.run_secs) if result.error_msg is None else None
            if latency is not None:
                self.best[task_id] = min(self.best.get(task_id, latency), latency)
        self.trials += len(measure_candidates)
        self.trials_by_task[task_id] += len(measure_candidates)
        total = sum(self.weights[i] * t for i, t in self.best.items())
        now = time.perf_counter()
        if len(self.best) == len(self.weights):
            self.history.append((self.trials, total, now - self.start))
        self.on_batch(len(measure_candidates), total)
        self.deadline.record(now - self.batch_start, len(measure_candidates))
        self.batch_start = now
        if self.stop.is_set():
            self.deadline.end()


@contextmanager
def stop_on_interrupt(stop: threading.Event):
    """Turn the first Ctrl-C into `stop.set()` so the batch in flight is recorded before tuning ends;
    a second Ctrl-C interrupts at once."""
    previous = signal.getsignal(signal.SIGINT)

    def handler(signum, frame):
        stop.set()
        signal.signal(signal.SIGINT, previous)

    signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@dataclass
class TuneOutcome:
    """What a tuning run produced: the database, the compiled executable, the search history, for a tree
    strategy the lineage outcomes ({origin: strategy.LineageOutcome}), what each task got (`per_task`:
    name, weight, trials, best_latency_s or None, library_path_only), the records reused from earlier runs,
    `search_s`, the seconds the search took, and `library_path`, one dict per matmul signature tried on the
    library path (`compile_choosing_library`)."""

    database: object
    executable: object
    history: list = field(default_factory=list)
    team: Team | None = None
    trials_run: int = 0
    tasks: int = 0
    lineages: dict = field(default_factory=dict)
    per_task: list = field(default_factory=list)
    reused_records: int = 0
    search_s: float = 0.0
    library_path: list = field(default_factory=list)


UNLIMITED_TRIALS = 1 << 30  # the trial budget of a run bounded by time only


def tune(workload: Workload, target, config: TuneConfig, settings: SearchSettings, *, team: Team | None = None,
         rpc_config=None, warm_start: tuple = (), cache_dir: Path | None = None,
         on_batch=lambda n, best: None) -> TuneOutcome:
    """Tune every task of `workload` for `config.trials` measured trials in total (global budget; None: no
    limit) and/or for `config.time_budget_s` seconds of search (setup before it and the final build not
    counted); TVM's gradient task scheduler shares either budget among the tasks. `settings`: the search
    preset; `on_batch(trials, best estimated latency in s)` is called after each measured batch.

    Records go to `config.work_dir/database_*.json` as they are measured; with `config.resume` the run's own
    earlier records count against the budget and seed the search. With `cache_dir` (`records.cache_dir`),
    this run's records are added to it at the end, also when interrupted, and unless `config.fresh` the
    records of earlier runs kept there join the work dir's database first (they seed the search and compete
    in the final build, without counting against the trials). Trials run in-process, or on RPC servers when
    `rpc_config` (MetaSchedule's RPCConfig) is given; `warm_start` records (`warm_start_records`) seed a tree
    search and pretrain the cost model. Raises UserError if the work dir already holds records and
    `config.resume` is False.
    """
    work_dir, strategy, seed, per_iter = config.work_dir, config.strategy, config.seed, settings.num_trials_per_iter
    work_dir.mkdir(parents=True, exist_ok=True)
    done = records.own_count(work_dir)
    if done and not config.resume:
        raise UserError(f"{work_dir} already holds {done} tuning records: pass --resume, or another --work-dir")
    reused = records.reuse(cache_dir, work_dir) if cache_dir and not config.fresh else records.reused_count(work_dir)
    database = ms.database.JSONDatabase(work_dir=str(work_dir))
    extracted, library_only = extract_tasks(workload.mod, target)
    deadline = timing.Deadline(config.time_budget_s, 1 if strategies.get(strategy).tree else per_iter)
    search = strategies.create(strategy, settings, seed, team, target, warm_start, deadline)
    import_tensor_intrinsics()
    contexts, weights = ms.relax_integration.extracted_tasks_to_tune_contexts(
        extracted, str(work_dir), strategy=search, num_threads=len(os.sched_getaffinity(0)), seed=seed)
    cost_model = TimedXGBModel(settings.cost_model_warmup_samples)
    cost_model.pretrain(warm_start, target)
    remaining = (UNLIMITED_TRIALS if config.trials is None else config.trials) - done
    stop = threading.Event()
    started = time.perf_counter()
    deadline.start()
    # the estimated latency in the history leaves out the tasks only the library path has
    estimated = [0.0 if i >= library_only else weight for i, weight in enumerate(weights)]
    progress = ProgressCallback(estimated, on_batch, stop, deadline)
    try:
        if remaining > 0 and contexts:
            with stop_on_interrupt(stop):
                ms.tune_tasks(tasks=contexts, task_weights=weights, work_dir=str(work_dir),
                              max_trials_global=remaining, num_trials_per_iter=per_iter,
                              builder=TimedBuilder(), runner=TimedRunner(rpc_config, settings.run_timeout_s),
                              database=database, cost_model=cost_model,
                              measure_callbacks=[*ms.measure_callback.MeasureCallback.create("default"), progress],
                              task_scheduler="gradient")
    finally:
        search_s = time.perf_counter() - started
        if cache_dir:
            records.keep(work_dir, cache_dir)
    if stop.is_set():
        raise KeyboardInterrupt
    with timing.phase("compile"):
        executable, library_tried = compile_choosing_library(database, workload, target)
    lineages = search.outcomes if isinstance(search, TreeSearch) else {}
    per_task = [{"task": context.task_name, "weight": float(weight), "trials": progress.trials_by_task[i],
                 "best_latency_s": progress.best.get(i), "library_path_only": i >= library_only} for i, (context, weight) in enumerate(zip(contexts, weights))]
    return TuneOutcome(database, executable, progress.history, team, progress.trials, len(contexts), lineages,
                       per_task, reused, search_s, library_tried)


def untuned_executable(workload: Workload, target):
    """The module built by TVM's default pipeline with no tuning (the baseline of the speedup)."""
    with timing.phase("compile"):
        return tvm.compile(workload.mod, target=target)
