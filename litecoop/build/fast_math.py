"""Fast float32 approximations of the transcendental operators, chosen at legalization on CPUs.

TVM legalizes `exp`, `erf`, `tanh`, `sigmoid` and the activations built on them (GELU, SiLU, softmax) to
calls of the C library's scalar `expf`/`erff`, which LLVM cannot vectorize: in MiniLM one GELU took 1.5 ms of
scalar `erff` where TOPI's `fast_erf` (a rational approximation, a few float32 ulps off) takes 0.07 ms.
onnxruntime's CPU kernels approximate the same way. `LEGALIZE` maps each Relax operator on float32 tensors to
the TOPI fast variant (`topi.fast_exp`, `fast_erf`, `fast_tanh`, `nn.fast_softmax`); other dtypes keep TVM's
default. `power` by a constant small integer exponent (GPT-2's GELU cubes, RMSNorm squares) becomes repeated
multiplication instead of a scalar `powf` call per element. Every tune checks the tuned output against the reference
(torch or onnxruntime) as before.
"""

from __future__ import annotations

import functools
import operator

import tvm
from tvm import topi

MAX_MULTIPLIED_EXPONENT = 4  # x ** n for integer 1 <= n <= this becomes n - 1 multiplications


def _gelu(x):
    return x * (0.5 + 0.5 * topi.fast_erf(x * 0.5**0.5))


def _sigmoid(x):
    return 1.0 / (1.0 + topi.fast_exp(-x))


def _silu(x):
    return x * _sigmoid(x)


def _legalize(compute, *attrs):
    """A LegalizeOps function that builds `compute(input, *call attributes)` for a float32 input and defers to
    the operator's own legalization otherwise."""

    def legalize(bb, call):
        if call.args[0].ty.dtype != "float32":
            return call.op.get_attr("FLegalize")(bb, call)
        return bb.call_te(compute, call.args[0], *(getattr(call.attrs, name) for name in attrs))

    return legalize


def _small_integer_exponent(exponent) -> int | None:
    """n when `exponent` (a Relax expression) is a scalar constant equal to an integer 1 <= n <=
    MAX_MULTIPLIED_EXPONENT, else None."""
    if not isinstance(exponent, tvm.ir.GenericConst) or exponent.value.numpy().size != 1:
        return None
    value = float(exponent.value.numpy())
    return int(value) if value.is_integer() and 1 <= value <= MAX_MULTIPLIED_EXPONENT else None


def _power(bb, call):
    """`x ** n` on float32 by a small integer constant n as n - 1 multiplications; TVM's default otherwise."""
    base, exponent = call.args
    n = _small_integer_exponent(exponent)
    if base.ty.dtype != "float32" or n is None or list(call.ty.shape) != list(base.ty.shape):
        return call.op.get_attr("FLegalize")(bb, call)
    return bb.call_te(lambda x: functools.reduce(operator.mul, [x] * n), base)


LEGALIZE = {
    "relax.exp": _legalize(topi.fast_exp),
    "relax.erf": _legalize(topi.fast_erf),
    "relax.tanh": _legalize(topi.fast_tanh),
    "relax.sigmoid": _legalize(_sigmoid),
    "relax.nn.gelu": _legalize(_gelu),
    "relax.nn.silu": _legalize(_silu),
    "relax.nn.softmax": _legalize(topi.nn.fast_softmax, "axis"),
    "relax.power": _power,
}
