"""Tuned schedules checked before they are built into a model: each task's best record must compute what the task's
unscheduled function computes, on random inputs, or the next best record is tried.

MetaSchedule measures speed, not results, and a few of its schedules compute wrong values: a convolution with a
fused pad epilogue (MobileNetV2) and a one-row embedding gather (Qwen's decode step) were off by 4 here, and the
model's output by 0.5-6.
"""

from __future__ import annotations

import logging

import numpy as np
import tvm
from tvm.s_tir import meta_schedule as ms
from tvm.s_tir.meta_schedule.arg_info import ArgInfo

from litecoop.errors import TVMError

CANDIDATES_PER_TASK = 8  # records tried per task, best first, before the task falls back to its default schedule


def _arguments(func, rng) -> list[np.ndarray]:
    """Random float arguments (normal), zero integer ones (in range for any index), for every parameter."""
    arrays = []
    for info in ArgInfo.from_prim_func(func):
        shape, dtype = [int(x) for x in info.shape], str(info.dtype)
        arrays.append(rng.standard_normal(shape).astype(dtype) if "float" in dtype else np.zeros(shape, dtype))
    return arrays


def _run(mod, target, arrays: list[np.ndarray]) -> list[np.ndarray]:
    """Every argument after one call of `mod` built for `target` on copies of `arrays` (outputs included, so an
    element a schedule leaves unwritten keeps its random start and shows)."""
    tensors = [tvm.runtime.tensor(a.copy()) for a in arrays]
    tvm.compile(mod, target=target)(*tensors)
    return [t.numpy() for t in tensors]


def agrees(expected: list[np.ndarray], got: list[np.ndarray]) -> bool:
    """Whether every array of `got` matches `expected` within float32 reordering noise."""
    return all(np.allclose(g, e, rtol=1e-3, atol=1e-4 * (1 + float(np.abs(e).max(initial=0))), equal_nan=True)
               for e, g in zip(expected, got))


def runs_here(target) -> bool:
    """Whether code built for `target` (an llvm Target) runs on this CPU: its triple and CPU name, where it sets
    them, are this machine's (a remote device's may not be: its schedules are then built unchecked)."""
    from litecoop.targets import load_target

    host = load_target("host").attrs
    return all(target.attrs.get(key) in (None, "", host.get(key)) for key in ("mtriple", "mcpu"))


def verified_database(database, tasks: list, target) -> ms.database.MemoryDatabase:
    """A MemoryDatabase with, for each of `tasks` (MetaSchedule ExtractedTasks of a CPU target), the best record
    of `database` whose schedule applies to the task and gives the unscheduled function's results on random inputs;
    up to CANDIDATES_PER_TASK are tried. A task with none keeps no record (its default schedule is built). Logs
    each rejected record."""
    verified = ms.database.MemoryDatabase()
    rng = np.random.default_rng(0)
    for task in tasks:
        mod = task.dispatched[0]
        if not database.has_workload(mod):
            continue
        records = database.get_top_k(database.commit_workload(mod), CANDIDATES_PER_TASK)
        if not records:
            continue
        arrays = _arguments(mod["main"], rng)
        expected = _run(mod, target, arrays)
        for record in records:
            sch = tvm.s_tir.Schedule(mod)
            try:
                record.trace.apply_to_schedule(sch, remove_postproc=False)
            except TVMError:  # a structurally equal task of another model whose blocks are named otherwise
                logging.getLogger(__name__).warning("a record of %s does not apply to it; trying the next",
                                                    task.task_name)
                continue
            if agrees(expected, _run(sch.mod, target, arrays)):
                workload = verified.commit_workload(mod)
                verified.commit_tuning_record(ms.database.TuningRecord(record.trace, workload, record.run_secs,
                                                                      record.target, record.args_info))
                break
            logging.getLogger(__name__).warning("a tuned schedule of %s computes wrong results; trying the next",
                                                task.task_name)
    return verified
