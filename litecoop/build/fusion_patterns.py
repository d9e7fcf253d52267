"""Guidance for FuseOps on CPUs: passes that run after LegalizeOps and AnnotateTIROpPattern and change the fusion
pattern (`op_pattern`) of legalized functions, so that FuseOps groups operators into the kernels this CPU runs best.
"""

from __future__ import annotations

import tvm
from tvm import relax, tirx

# tvm::relay::OpPatternKind, as AnnotateTIROpPattern sets it on each legalized function; FuseOps fuses nothing with an
# OPAQUE function
ELEMENTWISE, INJECTIVE, OPAQUE = 0, 2, 8


def _operator(var) -> str:
    """The operator a legalized function computes, by its name (`reshape3` -> `reshape`)."""
    return var.name_hint.rstrip("0123456789")


def _mark(mod, operator: str, pattern: int):
    """`mod` with every legalized function of `operator` given the fusion `pattern`."""
    for var, func in list(mod.functions.items()):
        if isinstance(func, tirx.PrimFunc) and _operator(var) == operator:
            mod[var] = func.with_attr("op_pattern", pattern)
    return mod


@tvm.transform.module_pass(opt_level=0, name="KeepPadsApart")
def keep_pads_apart(mod, _ctx):
    """Mark legalized `nn.pad` functions opaque, so that FuseOps does not fuse a pad into the epilogue of the
    convolution before it: MetaSchedule's tuned schedules of conv2d -> bias -> clip -> pad computed wrong borders
    (MobileNetV2's explicit pads, max abs error 0.5; the untuned build was right)."""
    return _mark(mod, "pad", OPAQUE)


@tvm.transform.module_pass(opt_level=0, name="ReshapesAsElementwise")
def reshapes_as_elementwise(mod, _ctx):
    """Mark legalized reshapes elementwise for FuseOps (a reshape keeps the row-major order of the elements), so that
    a matmul's epilogue reaches through the reshapes that exporters put around elementwise operators: GPT-2's and
    BERT's 2-D linear layers are viewed back to 3-D for the bias, GELU or residual add after them, which FuseOps
    otherwise leaves as kernels of their own. A reshape that fuses with nothing stays a view."""
    return _mark(mod, "reshape", ELEMENTWISE)


@tvm.transform.module_pass(opt_level=0, name="FuseLayoutsIntoActivationMatmuls")
def fuse_layouts_into_activation_matmuls(mod, _ctx):
    """Mark the legalized matmuls of two computed activations (at every call, each operand is another kernel's
    output: neither a constant weight nor an input of the model; attention's Q.K^T and scores.V) injective, so that
    FuseOps fuses into each one kernel the layout copies that feed it (the heads' reshapes and transposes, K's
    transpose, grouped-query attention's repeat of K and V) and the scale, mask or layout copy after it; MetaSchedule
    then inlines the copies into the matmul's reads. FuseOps otherwise fuses no producer into a matmul, and each copy
    is a kernel of its own. A matmul of an input (a kernel's weight given as an argument) stays a fusion anchor, so
    that two layers never fuse into one kernel."""
    call_tir, takes_given = tvm.ir.Op.get("relax.call_tir"), {}
    inputs = {param for func in mod.functions.values() if isinstance(func, relax.Function) for param in func.params}

    def visit(expr):
        if isinstance(expr, relax.Call) and expr.op.same_as(call_tir):
            name = expr.args[0].name_hint
            given = any(isinstance(arg, tvm.ir.GenericConst) or arg in inputs for arg in expr.args[1].fields)
            takes_given[name] = takes_given.get(name, False) or given

    for func in mod.functions.values():
        if isinstance(func, relax.Function):
            relax.analysis.post_order_visit(func, visit)
    for var, func in list(mod.functions.items()):
        if isinstance(func, tirx.PrimFunc) and _operator(var) == "matmul" and takes_given.get(var.name_hint) is False:
            mod[var] = func.with_attr("op_pattern", INJECTIVE)
    return mod
