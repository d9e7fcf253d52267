"""Fast float32 approximations of the transcendental operators, chosen at legalization on CPUs.

TVM legalizes `exp`, `erf`, `tanh`, `sigmoid` and the activations built on them (GELU, SiLU, softmax) to
calls of the C library's scalar `expf`/`erff`, which LLVM cannot vectorize: in MiniLM one GELU took 1.5 ms of
scalar `erff` where TOPI's `fast_erf` (a rational approximation, a few float32 ulps off) takes 0.07 ms.
onnxruntime's CPU kernels approximate the same way. `LEGALIZE` maps each Relax operator on float32 tensors to
the TOPI fast variant (`topi.fast_exp`, `fast_erf`, `fast_tanh`, `nn.fast_softmax`); other dtypes keep TVM's
default. Every tune checks the tuned output against the reference (torch or onnxruntime) as before.
"""

from __future__ import annotations

from tvm import topi


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


LEGALIZE = {
    "relax.exp": _legalize(topi.fast_exp),
    "relax.erf": _legalize(topi.fast_erf),
    "relax.tanh": _legalize(topi.fast_tanh),
    "relax.sigmoid": _legalize(_sigmoid),
    "relax.nn.gelu": _legalize(_gelu),
    "relax.nn.silu": _legalize(_silu),
    "relax.nn.softmax": _legalize(topi.nn.fast_softmax, "axis"),
}
