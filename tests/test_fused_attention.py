"""The fused attention kernel (litecoop.build.fused_attention): every schedule its design space samples computes the
safe softmax attention, on shapes that pad (rows not a multiple of 8, keys not a multiple of 16), through permuted
operands, with a broadcast mask that hides every key from one query. Real TVM builds of MetaSchedule's design space
(the custom rule) and postprocessors, as a tune samples them."""

import numpy as np
import pytest
import tvm
from tvm.s_tir import meta_schedule as ms

from litecoop.build.fused_attention import Operand, attention_func
from litecoop.search.space import fresh_sample


def reference(q, k, v, scale, bias):
    """Safe softmax attention in NumPy (a row of -inf logits gives zeros): q (B, N, D), k (B, M, D), v (B, M, Dv)."""
    logits = q @ k.transpose(0, 2, 1) * scale + bias
    peak = logits.max(-1, keepdims=True)
    exps = np.where(np.isneginf(logits), 0.0, np.exp(logits - np.where(np.isneginf(peak), 0.0, peak)))
    sums = exps.sum(-1, keepdims=True)
    return np.where(sums > 0, (exps / np.where(sums > 0, sums, 1.0)) @ v, 0.0)


@pytest.mark.parametrize("rows, keys", [(21, 37), (5, 9)])  # (5, 9): one 16-key panel, loops of extent 1 left out
def test_every_sampled_schedule_computes_the_safe_softmax_attention(target, rows, keys):
    heads, depth, value_depth, scale = 3, 24, 32, 0.2
    rng = np.random.default_rng(0)
    q = rng.standard_normal((1, rows, heads, depth), np.float32)  # tokens-major: read through (0, 2, 1, 3)
    k = rng.standard_normal((heads, keys, depth), np.float32)
    v = rng.standard_normal((heads, keys, value_depth), np.float32)
    bias = np.where(rng.random((1, rows, keys)) < 0.3, -np.inf, 0.0).astype(np.float32)
    bias[0, 4] = -np.inf  # query 4 sees no key
    func = attention_func(Operand(q.shape, (0, 2, 1, 3)), Operand(k.shape, (0, 2, 1)), Operand(v.shape, (0, 1, 2)),
                          (heads, rows, value_depth), scale, bias.shape, (heads,))
    expected = reference(q[0].transpose(1, 0, 2), k, v, scale, bias)
    assert not expected[:, 4].any()
    context = ms.TuneContext(mod=tvm.IRModule({"main": func}), target=target, space_generator="post-order-apply",
                             task_name="attention")
    (space,) = context.space_generator.generate_design_space(context.mod)
    assert any(inst.kind.name == "SamplePerfectTile" for inst in space.trace.insts)  # the template, not the defaults
    decisions = set()
    for seed in range(4):
        sch = fresh_sample(space.trace, context.mod, list(context.space_generator.postprocs), seed)
        assert sch is not None
        decisions.add(str([list(map(int, decision)) for decision in sch.trace.decisions.values()]))
        out = tvm.runtime.tensor(np.zeros((heads, rows, value_depth), np.float32))
        tvm.compile(sch.mod, target=target)["main"](*(tvm.runtime.tensor(x) for x in (q, k, v, bias)), out)
        np.testing.assert_allclose(out.numpy(), expected, rtol=1e-4, atol=1e-5)
    assert len(decisions) > 1
