"""The part of reduced-precision builds that bf16 and int8 share: finding the matmuls by a constant float32 weight in a
Relax module and replacing each with a kernel over a packed copy of the weight, and the design space that tiles
such kernels around a tensor intrinsic.

A precision module supplies `rewrite(builder, x, weight) -> relax.Expr | None`: `x` the activation (a Relax
expression, float32, shape (..., K)), `weight` the constant as a NumPy array (K, N); it emits what replaces
`R.matmul(x, weight)` (same shape and dtype) through `builder`, or returns None to leave that matmul alone.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import tvm
from tvm import relax
from tvm.ir.utils import derived_object
from tvm.s_tir import meta_schedule as ms

Rewrite = Callable[[relax.BlockBuilder, relax.Expr, np.ndarray], "relax.Expr | None"]


def _const_weight(call: relax.Call) -> np.ndarray | None:
    """The float32 weight (K, N) of `R.matmul(x, W)` when W is a constant and x and the result are float32."""
    x, weight = call.args
    if not isinstance(weight, tvm.ir.GenericConst) or weight.value.dtype != "float32":
        return None
    if len(weight.value.shape) != 2 or x.ty.dtype != "float32" or call.ty.dtype != "float32":
        return None
    return weight.value.numpy()


@relax.expr_functor.mutator
class _ConstWeightMatmuls(relax.PyExprMutator):
    def __init__(self, mod, rewrite: Rewrite):
        super().__init__(mod)
        self.matmul = tvm.ir.Op.get("relax.matmul")
        self.rewrite = rewrite
        self.rewritten = 0

    def visit_call_(self, call):
        call = super().visit_call_(call)
        if not (isinstance(call, relax.Call) and call.op.same_as(self.matmul)):
            return call
        weight = _const_weight(call)
        replaced = None if weight is None else self.rewrite(self.builder_, call.args[0], weight)
        if replaced is None:
            return call
        self.rewritten += 1
        return replaced


def rewrite_const_weight_matmuls(mod, rewrite: Rewrite) -> tuple[object, int]:
    """`mod` (a Relax IRModule whose weights are constants, inference rewrites applied) with every matmul by a
    constant float32 weight passed through `rewrite` (see the module docstring); returns it and how many matmuls
    `rewrite` replaced."""
    mutator = _ConstWeightMatmuls(mod, rewrite)
    for var, func in list(mod.functions.items()):
        if isinstance(func, relax.Function):
            mutator.builder_.update_func(var, mutator.visit_expr(func))
    # matmuls of one activation (attention's Q, K and V) share its conversion
    return relax.transform.EliminateCommonSubexpr()(mutator.builder_.get()), mutator.rewritten


def bitcast_call(name: str, intrinsic: str, accumulator: str, operand: str) -> str:
    """LLVM IR of an always-inlined function `name(acc, a, b)` (`accumulator` the type of acc and the result, a and
    b <16 x i32>) that calls the LLVM `intrinsic` on acc and a and b bitcast to `operand` (e.g. "<64 x i8>"): a
    tensor intrinsic's body calls it through `pragma_import_llvm`, as TVM has no type for some operands."""
    return f"""
define linkonce_odr {accumulator} @{name}({accumulator} %acc, <16 x i32> %a, <16 x i32> %b) alwaysinline {{
  %a2 = bitcast <16 x i32> %a to {operand}
  %b2 = bitcast <16 x i32> %b to {operand}
  %r = call {accumulator} @{intrinsic}({accumulator} %acc, {operand} %a2, {operand} %b2)
  ret {accumulator} %r
}}
declare {accumulator} @{intrinsic}({accumulator}, {operand}, {operand})
"""


@derived_object
class UnrollAroundTensorize(ms.postproc.PyPostproc):
    """A postprocessor (after RewriteParallelVectorizeUnroll) that unrolls, instead of vectorizing, the loops around a
    block to be tensorized: MetaSchedule vectorizes a schedule's innermost spatial loops, which may enclose the
    intrinsic, and a vector intrinsic in a vectorized loop fails to build ("Cannot broadcast lanes=16 to 32"; a
    third of the int8 samples of MiniLM's FFN failed so)."""

    def _initialize_with_tune_context(self, context) -> None:
        pass

    def apply(self, sch) -> bool:
        pending = list(sch.get_child_blocks(sch.get_sblock("root", func_name="main")))
        while pending:
            block = pending.pop()
            pending += sch.get_child_blocks(block)
            if sch.get(block).annotations.get("meta_schedule.auto_tensorize"):
                for loop in sch.get_loops(block):
                    if sch.get(loop).kind == tvm.tirx.ForKind.VECTORIZED:
                        sch.unroll(loop)
        return True

    def clone(self) -> "UnrollAroundTensorize":
        return UnrollAroundTensorize()


def design_space(intrin: str) -> ms.space_generator.PostOrderApply:
    """MetaSchedule's CPU design space (ScheduleRule and Postproc "llvm") with a tensor intrinsic: blocks that the
    registered TensorIntrin `intrin` can compute are tiled around it (MultiLevelTilingWithIntrin, before the plain
    MultiLevelTiling) and tensorized after sampling (RewriteTensorize), no loop around the intrinsic vectorized
    (UnrollAroundTensorize)."""
    rules = list(ms.ScheduleRule.create("llvm"))
    tiling = next(i for i, rule in enumerate(rules) if type(rule).__name__ == "MultiLevelTiling")
    rules.insert(tiling, ms.schedule_rule.MultiLevelTilingWithIntrin(
        intrin, structure="SSRSRS", max_innermost_factor=64,
        reuse_write=ms.schedule_rule.ReuseType(req="may", levels=[1, 2], scope="global")))
    postprocs = list(ms.Postproc.create("llvm"))  # DisallowDynamicLoop, RewriteParallelVectorizeUnroll, ...
    postprocs.insert(2, UnrollAroundTensorize())
    postprocs.insert(4, ms.postproc.RewriteTensorize(vectorize_init_loop=True))
    return ms.space_generator.PostOrderApply(sch_rules=rules, postprocs=postprocs, mutator_probs="llvm")
