"""Tuned schedules are checked before the final build (litecoop.build.verify): a record that computes wrong results
is skipped, a right one is kept. Real TVM builds of a real miscompiled record and of a real design-space sample."""

import shutil
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import tvm
from tvm.s_tir import meta_schedule as ms

from litecoop.build import verify
from litecoop.search.space import fresh_sample

DATA = Path(__file__).parent / "data" / "miscompiled_take"


def wrong_results(record, mod, target) -> bool:
    arrays = verify._arguments(mod["main"], np.random.default_rng(1))
    sch = tvm.s_tir.Schedule(mod)
    record.trace.apply_to_schedule(sch, remove_postproc=False)
    return not verify.agrees(verify._run(mod, target, arrays), verify._run(sch.mod, target, arrays))


@pytest.mark.slow  # builds and runs a gather from a 151936 x 896 table (545 MB) twice: 19 s
def test_a_record_that_computes_wrong_results_is_not_built(target, tmp_path):
    """The only record of Qwen's decode-step embedding gather (take of one row of a 151936 x 896 table) from a zoo
    run: MetaSchedule measured it, and it computes wrong values; the verified database leaves the task without it."""
    shutil.copytree(DATA, tmp_path / "db")
    database = ms.database.JSONDatabase(work_dir=str(tmp_path / "db"))
    (record,) = database.get_all_tuning_records()
    mod = record.workload.mod
    assert wrong_results(record, mod, target)
    verified = verify.verified_database(database, [SimpleNamespace(task_name="take1", dispatched=[mod])], target)
    assert not verified.has_workload(mod)


def test_a_record_that_computes_right_results_is_kept(target, matmul_context):
    context, spaces = matmul_context
    postprocs = list(context.space_generator.postprocs)
    sch = next(s for seed in range(1, 20) if (s := fresh_sample(spaces[0].trace, context.mod, postprocs, seed)))
    database = ms.database.MemoryDatabase()
    workload = database.commit_workload(context.mod)
    database.commit_tuning_record(ms.database.TuningRecord(sch.trace, workload, [1e-3], target, None))
    verified = verify.verified_database(database, [SimpleNamespace(task_name="matmul", dispatched=[context.mod])], target)
    (kept,) = verified.get_top_k(verified.commit_workload(context.mod), 8)
    assert str(kept.trace) == str(sch.trace)


def test_only_code_this_cpu_can_run_is_checked(target):
    assert verify.runs_here(target)
    assert not verify.runs_here(tvm.target.Target({"kind": "llvm", "mtriple": "aarch64-linux-gnu"}))
    assert not verify.runs_here(tvm.target.Target({"kind": "llvm", "mtriple": "x86_64-linux-gnu", "mcpu": "knl"}))


def test_a_record_of_a_task_whose_blocks_are_named_otherwise_is_skipped(target, matmul_context):
    """Another model's task can equal this one structurally (the store shares records by structure) while its
    blocks carry other names, which a trace refers to: such a record does not apply, and the task is built with
    its default schedule instead of the build failing."""
    context, spaces = matmul_context
    postprocs = list(context.space_generator.postprocs)
    sch = next(s for seed in range(1, 20) if (s := fresh_sample(spaces[0].trace, context.mod, postprocs, seed)))
    database = ms.database.MemoryDatabase()
    database.commit_tuning_record(ms.database.TuningRecord(sch.trace, database.commit_workload(context.mod), [1e-3],
                                                           target, None))
    (block,) = {name for name in ("matmul", "T_matmul", "C") if f'T.sblock("{name}")' in context.mod.script()}
    renamed = tvm.script.from_source(context.mod.script().replace(f'"{block}"', '"other_name"'))
    assert database.has_workload(renamed)
    verified = verify.verified_database(database, [SimpleNamespace(task_name="matmul", dispatched=[renamed])], target)
    assert not verified.has_workload(renamed)
