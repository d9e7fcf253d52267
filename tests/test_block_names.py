"""A record tuned for one model's task serves the same task of another model whose blocks are named after other
variables (litecoop.block_names): real tasks extracted from two small torch models, a real design-space sample
with an rfactor block, a real store."""

import numpy as np
import torch
from tvm.s_tir import meta_schedule as ms
from tvm_ffi import structural_equal

from litecoop import records
from litecoop.block_names import block_names
from litecoop.build.compiler import extract_tasks
from litecoop.build.intrinsics import import_tensor_intrinsics
from litecoop.search.space import fresh_sample
from litecoop.workload import from_torch


class Norm(torch.nn.Module):
    """A layer norm of the input, or of a linear layer's output: the layer norm task is the same, but TVM names
    its blocks after the variable it reads (`x_sum` or `lv2_sum`)."""

    def __init__(self, linear_first: bool):
        super().__init__()
        self.linear_first, self.linear, self.norm = linear_first, torch.nn.Linear(64, 64), torch.nn.LayerNorm(64)

    def forward(self, x):
        return self.norm(self.linear(x) if self.linear_first else x)


def layer_norm_task(target, linear_first: bool):
    workload = from_torch("norm", Norm(linear_first), [np.zeros((8, 64), "float32")])
    return next(t.dispatched[0] for t in extract_tasks(workload.mod, target) if "layer_norm" in t.task_name)


def sample_with_rfactor(mod, target):
    """A legal design-space sample of `mod` whose trace gets a block the trace made (`..._rf`) by name."""
    import_tensor_intrinsics(target)
    context = ms.TuneContext(mod=mod, target=target, space_generator="post-order-apply", num_threads=1)
    postprocs = list(context.space_generator.postprocs)
    for space in context.generate_design_space():
        for seed in range(20):
            sch = fresh_sample(space.trace, mod, postprocs, seed)
            if sch is not None and '_rf", func_name' in str(sch.trace):
                return sch
    raise AssertionError("no design-space sample with an rfactor block")


def test_a_record_of_one_models_task_serves_the_same_task_of_another(target, tmp_path):
    first, second = layer_norm_task(target, False), layer_norm_task(target, True)
    assert structural_equal(first, second) and block_names(first)[1] == "x_sum" and block_names(second)[1] != "x_sum"
    (tmp_path / "first").mkdir()
    database = ms.database.JSONDatabase(work_dir=str(tmp_path / "first"))
    sch = sample_with_rfactor(first, target)
    database.commit_tuning_record(ms.database.TuningRecord(sch.trace, database.commit_workload(first), [1e-4], target,
                                                           ms.arg_info.ArgInfo.from_prim_func(first["main"])))
    records.keep(tmp_path / "first", tmp_path / "store")

    assert records.reuse(tmp_path / "store", tmp_path / "second", [second]) == [1]
    (record,) = records.open_database(tmp_path / "second").get_all_tuning_records()  # replays the renamed trace
    renamed = str(record.trace)
    assert f'"{block_names(second)[1]}_rf"' in renamed and "x_sum" not in renamed
