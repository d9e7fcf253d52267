"""Fusion beyond FuseOps' defaults (litecoop.build.compiler): an attention is one kernel (Q.K^T, scale, mask,
softmax and scores.V, reading Q, K and V through the heads' reshapes and transposes; a multiply by one that torch's
scaled_dot_product_attention exports is dropped, and its safe softmax reads no zeros as large as the scores), and
a linear layer's epilogue reaches through the reshapes around it (GELU,
residual add); a convolutional network's explicit zero pads fold into its convolutions, and with them its
depthwise blocks run channels-last, ReLU6 included; 1-D convolutions run channels-last too. Each build still matches torch. Real torch blocks, real TVM
builds (empty database)."""

import numpy as np
import pytest
import torch
import tvm
from tvm import relax
from tvm.s_tir import meta_schedule as ms

from litecoop.build import compiler, graph_rewrites
from litecoop.workload import from_torch


class Attention(torch.nn.Module):
    """Multi-head attention as transformers writes it: 4 query heads of 16, `kv_heads` key/value heads (repeated
    to 4 when fewer: grouped-query attention), an additive mask."""

    def __init__(self, kv_heads: int):
        super().__init__()
        self.kv_heads = kv_heads
        self.q, self.k, self.v, self.o = (torch.nn.Linear(64, 16 * heads) for heads in (4, kv_heads, kv_heads, 4))

    def forward(self, x, mask):
        def heads(t, count):
            return t.view(1, -1, count, 16).transpose(1, 2)

        q, k, v = heads(self.q(x), 4), heads(self.k(x), self.kv_heads), heads(self.v(x), self.kv_heads)
        k, v = (t.repeat_interleave(4 // self.kv_heads, dim=1) for t in (k, v))
        scores = torch.softmax(q @ k.transpose(-1, -2) * 0.25 + mask, dim=-1)
        return self.o((scores @ v).transpose(1, 2).reshape(1, -1, 64))


class FeedForward(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.up, self.down = torch.nn.Linear(64, 128), torch.nn.Linear(128, 64)

    def forward(self, x):
        return x + self.down(torch.nn.functional.gelu(self.up(x)))


class PaddedDepthwiseBlock(torch.nn.Module):
    """MobileNetV2's inverted residual as Hugging Face writes it, with TensorFlow's "same" padding as an explicit
    pad: pointwise expansion, ReLU6, zero pad, depthwise 3x3 of stride 2, ReLU6, pointwise projection."""

    def __init__(self):
        super().__init__()
        self.expand, self.project = torch.nn.Conv2d(8, 32, 1), torch.nn.Conv2d(32, 8, 1)
        self.depthwise = torch.nn.Conv2d(32, 32, 3, stride=2, groups=32)

    def forward(self, x):
        x = torch.nn.functional.pad(torch.nn.functional.relu6(self.expand(x)), (0, 1, 0, 1))
        return self.project(torch.nn.functional.relu6(self.depthwise(x)))


def matches_torch(workload, target):
    vm = relax.VirtualMachine(compiler.compile_tuned(ms.database.MemoryDatabase(), workload.mod, target), tvm.cpu())
    out = vm["main"](*(tvm.runtime.tensor(array) for array in workload.inputs))
    out = (out[0] if isinstance(out, tvm.ir.Array) else out).numpy()
    np.testing.assert_allclose(out, workload.reference, rtol=1e-4, atol=1e-4)


def _attention_calls(fused) -> list:
    """The call_tir calls of the fused attention kernel in `fused`'s main."""
    calls = []
    relax.analysis.post_order_visit(fused["main"], lambda expr: calls.append(expr) if (
        isinstance(expr, relax.Call) and expr.op.name == "relax.call_tir"
        and expr.args[0].name_hint.startswith("fused_attention")) else None)
    return calls


@pytest.mark.parametrize("kv_heads", [4, 2])
def test_an_attention_is_one_kernel_that_reads_its_heads_in_place(target, kv_heads):
    """Q.K^T, the scale, the mask, softmax and scores.V are one kernel, which reads Q, K and V through the heads'
    reshapes and transposes; left as copies of their own: the heads' output back to tokens and grouped-query
    attention's repeat of K and V."""
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 24, 64)).astype(np.float32)
    mask = np.where(rng.random((1, 1, 24, 24)) < 0.2, -1e4, 0).astype(np.float32)
    workload = from_torch("attention", Attention(kv_heads).eval(), [x, mask])
    fused, tasks = compiler.fused_tasks(workload.mod, target)
    names = [task.task_name for task in tasks]
    assert len(_attention_calls(fused)) == 1 and len(_attention_calls(fused)[0].args[1].fields) == 4  # the mask too
    assert not [name for name in names if "softmax" in name or ("matmul" in name and "transpose" in name)], names
    assert len([name for name in names if "transpose" in name]) == (1 if kv_heads == 4 else 2), names
    matches_torch(workload, target)


class ScaledDotProductAttention(torch.nn.Module):
    """Whisper's attention: Q scaled in its projection, then torch's scaled_dot_product_attention with scale 1, which
    torch.export decomposes into Q * sqrt(1) and K * sqrt(1) before Q.K^T."""

    def __init__(self):
        super().__init__()
        self.q, self.k, self.v = (torch.nn.Linear(64, 64) for _ in range(3))

    def forward(self, x):
        q, k, v = (t.view(1, -1, 4, 16).transpose(1, 2) for t in (self.q(x) * 0.25, self.k(x), self.v(x)))
        return torch.nn.functional.scaled_dot_product_attention(q, k, v, scale=1.0).transpose(1, 2).reshape(1, -1, 64)


def test_multiplies_by_one_are_dropped_and_the_attention_is_one_kernel(target):
    torch.manual_seed(0)
    x = np.random.default_rng(0).standard_normal((1, 24, 64)).astype(np.float32)
    workload = from_torch("sdpa", ScaledDotProductAttention().eval(), [x])
    before = workload.mod.script()
    assert "R.const(1.0" in before  # torch.export's decomposition multiplies by it
    assert "R.const(1.0" not in graph_rewrites.drop_multiplies_by_one(workload.mod).script()
    assert workload.mod.script() == before  # the pass leaves its caller's module as it was
    fused, tasks = compiler.fused_tasks(workload.mod, target)
    assert len(_attention_calls(fused)) == 1 and "R.const(1.0" not in fused["main"].script()
    assert not [task.task_name for task in tasks if "softmax" in task.task_name]
    matches_torch(workload, target)


class MaskedAttention(torch.nn.Module):
    """torch's scaled_dot_product_attention with a boolean mask: torch.export decomposes its softmax into a safe
    softmax (a row whose scores are all -inf gives zeros)."""

    def __init__(self):
        super().__init__()
        self.q, self.k, self.v = (torch.nn.Linear(64, 64) for _ in range(3))

    def forward(self, x, mask):
        q, k, v = (t.view(1, -1, 4, 16).transpose(1, 2) for t in (self.q(x), self.k(x), self.v(x)))
        return torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask).transpose(1, 2).reshape(1, -1, 64)


def test_the_safe_softmax_picks_its_zeros_from_a_scalar_and_a_fully_masked_row_gives_zeros(target):
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 24, 64)).astype(np.float32)
    mask = rng.random((1, 1, 24, 24)) < 0.7
    mask[0, 0, 5] = False  # query 5 sees no key
    workload = from_torch("masked_sdpa", MaskedAttention().eval(), [x, mask])
    assert "R.full_like" in workload.mod.script() and not workload.reference[0, 5].any()
    constants = []
    relax.analysis.post_order_visit(compiler.fuse(workload.mod, target)["main"], lambda expr: constants.append(
        tuple(expr.value.shape)) if isinstance(expr, tvm.ir.GenericConst) else None)
    assert (1, 4, 24, 24) not in constants  # no zeros as large as the scores
    matches_torch(workload, target)


def test_a_linear_layers_epilogue_reaches_through_its_reshapes(target):
    torch.manual_seed(0)
    x = np.random.default_rng(0).standard_normal((1, 24, 64)).astype(np.float32)
    workload = from_torch("feed_forward", FeedForward().eval(), [x])
    names = [task.task_name for task in compiler.extract_tasks(workload.mod, target)]
    assert [name for name in names if "matmul" in name and "gelu" in name], names
    (down,) = [name for name in names if "matmul" in name and "gelu" not in name]
    assert down.count("add") == 2, names  # bias and residual
    assert len([name for name in names if not name.startswith("reshape")]) == 2, names  # a lone reshape is a view
    matches_torch(workload, target)


def test_two_layers_whose_weights_are_inputs_stay_two_kernels(target):
    """A kernel's weights given as inputs are no activations: each matmul stays the anchor of its own kernel."""
    from small_workload import make_two_layers

    module, inputs = make_two_layers()
    workload = from_torch("two_layers", module, [tensor.numpy() for tensor in inputs])
    names = [task.task_name for task in compiler.extract_tasks(workload.mod, target)]
    assert [name.count("matmul") for name in names if "matmul" in name] == [1, 1], names


def test_explicit_pads_fold_into_convolutions_and_a_depthwise_block_runs_channels_last(target):
    """No pad is a kernel of its own, each convolution carries its activation, and the only layout copies left are
    the block's input and output transposes (NCHW <-> NHWC)."""
    rng = np.random.default_rng(0)
    block, inputs = PaddedDepthwiseBlock().eval(), [rng.standard_normal((1, 8, 16, 16), np.float32)]
    workload = from_torch("padded_block", block, inputs)
    before = workload.mod.script()
    assert "NHWC" in graph_rewrites.channels_last(graph_rewrites.fold_pads_into_convolutions(workload.mod)).script()
    assert workload.mod.script() == before  # the passes leave their caller's module as it was
    names = [task.task_name for task in compiler.extract_tasks(workload.mod, target)]
    assert not [name for name in names if "pad" in name], names
    assert sum("conv2d" in name for name in names) == 3 and sum("transpose" in name for name in names) == 2, names
    assert sum("conv2d" in name and "minimum" in name for name in names) == 2, names  # ReLU6 fused, in NHWC
    matches_torch(workload, target)


class ConvolutionStem(torch.nn.Module):
    """Whisper's encoder stem: two 1-D convolutions (the second of stride 2) with GELUs, then time-major."""

    def __init__(self):
        super().__init__()
        self.first, self.second = torch.nn.Conv1d(80, 64, 3, padding=1), torch.nn.Conv1d(64, 64, 3, 2, padding=1)

    def forward(self, x):
        gelu = torch.nn.functional.gelu
        return gelu(self.second(gelu(self.first(x)))).permute(0, 2, 1)


def test_one_dimensional_convolutions_run_channels_last_and_the_time_major_copy_goes(target):
    """In NWC the stem's output is time-major already: the one layout copy left is the input's (NCW -> NWC)."""
    workload = from_torch("stem", ConvolutionStem().eval(),
                          [np.random.default_rng(0).standard_normal((1, 80, 300), np.float32)])
    tasks = compiler.extract_tasks(workload.mod, target)
    names = [task.task_name for task in tasks]
    assert sum("conv1d" in name and "gelu" in name for name in names) == 2, names
    assert [name for name in names if "conv1d" not in name] == ["transpose1"], names
    (copy,) = [task.dispatched[0].script() for task in tasks if task.task_name == "transpose1"]
    assert "T.Buffer((T.int64(1), T.int64(80), T.int64(300))" in copy  # it reads the model's input
    matches_torch(workload, target)


def test_a_matmul_over_an_odd_number_of_rows_computes_on_whole_vectors(target):
    """197 tokens (ViT's; a prime) are padded to 208 rows inside the linear layers' kernels, the weights keep their
    shape (the build prepacks them), and the build still matches torch. 196 rows tile by 4, 7 or 14 (ConvNeXt-T ran
    slower padded): kept; 24 rows would pad by a third: kept."""
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    for rows, padded in ((197, True), (196, False), (24, False)):
        workload = from_torch("feed_forward", FeedForward().eval(), [rng.standard_normal((1, rows, 64), np.float32)])
        tasks = [task for task in compiler.extract_tasks(workload.mod, target) if "matmul" in task.task_name]
        scripts = [task.dispatched[0].script() for task in tasks]
        assert all(("T.int64(208)" in script) == padded for script in scripts), scripts
        assert all("(T.int64(128), T.int64(64))" in script or "(T.int64(64), T.int64(128))" in script
                   for script in scripts)  # the weights, unpadded
        matches_torch(workload, target)
