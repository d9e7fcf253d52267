"""Inference rewrites before fusion (litecoop.build.graph_rewrites.INFERENCE_REWRITES): a batch norm after a convolution
folds into it, so that a conv -> batch norm -> ReLU block is one task, and a batch norm after anything else fuses
as elementwise arithmetic; on CPUs a model's convolutions run channels-last (NHWC), depthwise ones included, unless
it has only one. Real torch modules with random running statistics, real TVM builds (empty database)."""

import numpy as np
import torch
import tvm
from tvm import relax
from tvm.s_tir import meta_schedule as ms

from litecoop.build import compiler
from litecoop.workload import from_torch


def block(groups: int = 1) -> torch.nn.Module:
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(8, 8, 3, padding=1, groups=groups), torch.nn.BatchNorm2d(8),
                                torch.nn.ReLU(), torch.nn.Conv2d(8, 8, 1), torch.nn.MaxPool2d(2), torch.nn.BatchNorm2d(8))
    for norm in (model[1], model[5]):  # statistics away from the identity, as after training
        norm.running_mean.uniform_(-1, 1), norm.running_var.uniform_(0.5, 2), norm.weight.data.uniform_(0.5, 2)
    return model


def test_a_conv_batch_norm_relu_block_is_one_task_and_matches_torch(target):
    for groups in (1, 8):  # a plain and a depthwise convolution
        x = np.random.default_rng(groups).standard_normal((1, 8, 16, 16)).astype(np.float32)
        workload = from_torch("block", block(groups), [x])
        tasks = {task.task_name: task for task in compiler.extract_tasks(workload.mod, target)}
        assert not [name for name in tasks if "batch_norm" in name], list(tasks)
        (conv,) = [task for name, task in tasks.items() if name.startswith("fused_conv2d") and "relu" in name]
        data = conv.mod["main"].params[0].ty  # the input's buffer
        assert [int(extent) for extent in data.shape] == [1, 16, 16, 8]  # NHWC
        vm = relax.VirtualMachine(compiler.compile_tuned(ms.database.MemoryDatabase(), workload.mod, target), tvm.cpu())
        out = vm["main"](tvm.runtime.tensor(x))
        out = (out[0] if isinstance(out, tvm.ir.Array) else out).numpy()
        np.testing.assert_allclose(out, workload.reference, rtol=1e-4, atol=1e-4, err_msg=f"groups={groups}")
