"""Fast float32 math at legalization on CPUs (litecoop.build.fast_math): GELU, SiLU, sigmoid, tanh, exp and softmax
legalize to TOPI's fast approximations, which stay within float32 noise of the exact functions, a power by a small
integer to multiplications, and a float16 operator or a power by another exponent keeps TVM's own legalization. Real TVM builds, no tuning (empty database)."""

import numpy as np
import tvm
from scipy.special import erf, softmax
from tvm import relax
from tvm.s_tir import meta_schedule as ms

from litecoop.build import compiler

EXACT = {
    "gelu": (relax.op.nn.gelu, lambda x: 0.5 * x * (1 + erf(x / np.sqrt(2)))),
    "silu": (relax.op.nn.silu, lambda x: x / (1 + np.exp(-x))),
    "sigmoid": (relax.op.sigmoid, lambda x: 1 / (1 + np.exp(-x))),
    "tanh": (relax.op.tanh, np.tanh),
    "exp": (relax.op.exp, np.exp),
    "softmax": (lambda x: relax.op.nn.softmax(x, axis=-1), lambda x: softmax(x, axis=-1)),
    "cube": (lambda x: power(x, 3.0), lambda x: x**3),
    "square": (lambda x: power(x, 2.0), lambda x: x**2),
}


def power(x, exponent: float):
    return relax.op.power(x, relax.const(exponent, "float32"))


def module(op, dtype="float32"):
    bb = relax.BlockBuilder()
    x = relax.Var("x", relax.TensorType((64, 96), dtype))
    with bb.function("main", [x]):
        with bb.dataflow():
            out = bb.emit_output(bb.emit(op(x)))
        bb.emit_func_output(out)
    return bb.get()


def test_fast_operators_match_the_exact_functions(target, tmp_path):
    x = np.random.default_rng(0).uniform(-6, 6, size=(64, 96)).astype(np.float32)
    database = ms.database.MemoryDatabase()
    for name, (op, exact) in EXACT.items():
        mod = module(op)
        fused = compiler.fuse(mod, target)
        assert not any(call in fused.script() for call in ("T.erf(", "T.exp(", "T.pow(")), name  # no scalar libm
        vm = relax.VirtualMachine(compiler.compile_tuned(database, mod, target), tvm.cpu())
        out = vm["main"](tvm.runtime.tensor(x)).numpy()
        np.testing.assert_allclose(out, exact(x.astype(np.float64)), rtol=2e-6, atol=2e-6, err_msg=name)


def test_float16_keeps_tvms_legalization(target):
    assert "T.exp(" in compiler.fuse(module(relax.op.exp, "float16"), target).script()


def test_a_power_by_a_fraction_keeps_tvms_legalization(target):
    assert "T.pow(" in compiler.fuse(module(lambda x: power(x, 2.5)), target).script()
