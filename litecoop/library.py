"""A library path for matrix products on CPUs: float32 `R.matmul` calls become calls of the BLAS sgemm that
NumPy ships (OpenBLAS), through a TVM packed function registered from Python.

TVM's own BLAS bindings (`tvm.contrib.cblas`, DNNL) are not compiled into this wheel, so the external kernel is
reached the way Relax reaches any external function: `R.call_dps_packed("litecoop.blas.matmul", ...)`, which the
VM resolves by name. A tuned library that uses it needs this module imported in the process that loads it (the
import registers the function): `litecoop.library.load_module(path)`.

Whether a matmul takes the library path is decided per signature (the operand shapes) by measuring the whole
workload with and without it (`tuner.compile_choosing_library`): on MiniLM's largest matmul (128x384 @ 384x1536,
2 threads) OpenBLAS runs at 175 GFLOP/s where the best tuned kernel found ran at 111 GFLOP/s.
"""

from __future__ import annotations

import numpy as np
import tvm
from tvm import relax
from tvm.ir.prim.expr import IntImm
from tvm.relax.expr_functor import PyExprMutator, mutator

MATMUL = "litecoop.blas.matmul"


@tvm.register_global_func(MATMUL, override=True)
def _blas_matmul(a, b, out) -> None:
    """Destination-passing matmul on tvm.runtime.Tensors, NumPy semantics (batched, broadcast); zero-copy."""
    np.matmul(np.from_dlpack(a), np.from_dlpack(b), out=np.from_dlpack(out))


def load_module(path):
    """Load a tuned library (`litecoop tune`'s tuned.so) with the library path registered: tvm.runtime.Module."""
    return tvm.runtime.load_module(str(path))


def _signature(call) -> tuple | None:
    """(shape of a, shape of b) for a float32 matmul of static shapes, both operands at least 2-D; None for any
    other call."""
    if not (isinstance(call.op, tvm.ir.Op) and call.op.name == "relax.matmul"):
        return None
    types = [arg.ty for arg in call.args] + [call.ty]
    if not all(isinstance(t, relax.TensorType) and t.dtype == "float32" and t.shape is not None for t in types):
        return None
    shapes = [tuple(t.shape) for t in types[:2]]
    if not all(len(shape) >= 2 and all(isinstance(d, IntImm) for d in shape) for shape in shapes):
        return None
    return tuple(tuple(int(d) for d in shape) for shape in shapes)


def flops(signature: tuple) -> float:
    """Floating-point operations of one matmul of `signature` ((..., m, k), (..., k, n)): 2·batch·m·k·n."""
    (*batch_a, m, k), (*batch_b, _, n) = signature
    return 2.0 * float(np.prod(np.broadcast_shapes(tuple(batch_a), tuple(batch_b)))) * m * k * n


def matmul_signatures(mod) -> dict:
    """{signature: number of calls} of the matmuls in `mod`'s Relax functions that the library path can take
    (float32, static shapes, operands at least 2-D), where a signature is (shape of a, shape of b)."""
    found: dict = {}

    def visit(expr):
        if isinstance(expr, relax.Call) and (signature := _signature(expr)) is not None:
            found[signature] = found.get(signature, 0) + 1

    for function in mod.functions.values():
        if isinstance(function, relax.Function):
            relax.analysis.post_order_visit(function, visit)
    return found


def dispatch(mod, signatures):
    """`mod` with every matmul whose signature is in `signatures` calling the library path instead."""
    signatures = set(signatures)

    @mutator
    class Dispatch(PyExprMutator):
        def visit_call_(self, call):
            call = super().visit_call_(call)
            if _signature(call) in signatures:
                return relax.call_dps_packed(MATMUL, relax.Tuple(list(call.args)), call.ty)
            return call

    rewriter = Dispatch(mod)
    for global_var, function in mod.functions.items():
        if isinstance(function, relax.Function):
            rewriter.builder_.update_func(global_var, rewriter.visit_expr(function))
    return rewriter.builder_.get()
