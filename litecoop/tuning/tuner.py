"""The search of one tuning run: MetaSchedule task extraction (`build.compiler.fused_tasks`) -> one TuneContext
per task with the chosen search strategy -> TVM's gradient task scheduler under one global trial or time
budget -> the final build from the database (`build.compiler.compile_tuned`)."""

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

from tvm.ir.utils import derived_object
from tvm.s_tir import meta_schedule as ms
from tvm.s_tir.meta_schedule.measure_callback import PyMeasureCallback

from litecoop.measure import timing
from litecoop.build import precision
from litecoop.build.compiler import compile_tuned, fused_tasks
from litecoop import records
from litecoop.search import registry
from litecoop.measure.cost_model import TimedXGBModel
from litecoop.errors import UserError
from litecoop.llm.team import Team
from litecoop.build.intrinsics import import_tensor_intrinsics
from litecoop.measure.builder_runner import TimedBuilder, TimedRunner, mean_run_s
from litecoop.search.settings import SearchSettings
from litecoop.tuning.config import TuneConfig
from litecoop.search.tree_search import TreeSearch
from litecoop.workload import Workload

logging.getLogger("tvm.s_tir.meta_schedule").setLevel(logging.WARNING)


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
    name, weight, trials, best_latency_s or None), the records reused from earlier runs and `search_s`, the
    seconds the search took."""

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


UNLIMITED_TRIALS = 1 << 30  # the trial budget of a run bounded by time only


def tune(workload: Workload, target, config: TuneConfig, settings: SearchSettings, *, team: Team | None = None,
         rpc_config=None, warm_start: tuple = (), cache_dir: Path | None = None,
         on_batch=lambda n, best: None) -> TuneOutcome:
    """Tune every task of `workload` for `config.trials` measured trials in total (global budget; None: no
    limit) and/or for `config.time_budget_s` seconds of search (setup before it and the final build not
    counted); TVM's gradient task scheduler shares either budget among the tasks. `settings`: the search
    preset; `on_batch(trials, best estimated latency in s)` is called after each measured batch.

    Records go to `config.work_dir/database_*.json` as they are measured; with `config.resume` the run's own
    earlier records count against the budget and seed the search. With `cache_dir` (`records.store_dir`),
    this run's records are added to it at the end, also when interrupted, and unless `config.fresh` the
    records of this run's tasks kept there join the work dir's database first (they seed the search and compete
    in the final build, without counting against the trials), and a tree search moves the store's best records
    of other tasks onto each task that has none of its own (`records.store_warm_start`). Trials run in-process, or on RPC servers when
    `rpc_config` (MetaSchedule's RPCConfig) is given; `warm_start` records (`warm_start_records`) seed a tree
    search and pretrain the cost model. Raises UserError if the work dir already holds records and
    `config.resume` is False.
    """
    work_dir, strategy, seed, per_iter = config.work_dir, config.strategy, config.seed, settings.num_trials_per_iter
    work_dir.mkdir(parents=True, exist_ok=True)
    done = records.own_count(work_dir)
    if done and not config.resume:
        raise UserError(f"{work_dir} already holds {done} tuning records: pass --resume, or another --work-dir")
    fused, extracted = fused_tasks(workload.mod, target)
    deadline = timing.Deadline(config.time_budget_s, 1 if registry.get(strategy).tree else per_iter, len(extracted))
    from_other_shapes = (records.store_warm_start(cache_dir) if cache_dir and not config.fresh and not warm_start
                         and registry.get(strategy).tree else ())
    search = registry.create(strategy, settings, seed, team, target, warm_start or from_other_shapes, deadline)
    import_tensor_intrinsics(target)
    space = precision.design_space(workload.precision)
    contexts, weights = ms.relax_integration.extracted_tasks_to_tune_contexts(
        extracted, str(work_dir), space=space, strategy=search, num_threads=len(os.sched_getaffinity(0)), seed=seed)
    mods = [context.mod for context in contexts]  # the tasks' workloads: the store's records of these are reused
    from_store = (records.reuse(cache_dir, work_dir, mods) if cache_dir and not config.fresh
                  else records.reused_by_task(work_dir, mods))
    reused = records.reused_count(work_dir)
    database = ms.database.JSONDatabase(work_dir=str(work_dir))  # opened after records.reuse, which appends to it
    cost_model = TimedXGBModel(settings.cost_model_warmup_samples)
    cost_model.pretrain(warm_start, target)
    remaining = (UNLIMITED_TRIALS if config.trials is None else config.trials) - done
    stop = threading.Event()
    started = time.perf_counter()
    deadline.start()
    progress = ProgressCallback(list(weights), on_batch, stop, deadline)
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
        executable = compile_tuned(database, workload.mod, target, fused)
    lineages = search.outcomes if isinstance(search, TreeSearch) else {}
    per_task = [{"task": context.task_name, "weight": float(weight), "trials": progress.trials_by_task[i],
                 "best_latency_s": progress.best.get(i), "records_from_store": from_store[i]}
                for i, (context, weight) in enumerate(zip(contexts, weights))]
    return TuneOutcome(database, executable, progress.history, team, progress.trials, len(contexts), lineages,
                       per_task, reused, search_s)
