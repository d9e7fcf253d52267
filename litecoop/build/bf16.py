"""bfloat16 matmuls on CPUs with AVX512-BF16: weights stored in bfloat16, activations cast to bfloat16, products
summed in float32 by the `vdpbf16ps` instruction (16 float32 lanes, each += the dot product of 2 bfloat16 pairs).

`to_bf16_matmuls` rewrites a Relax module: every matmul by a constant float32 weight of shape (K, N), K even and N a
multiple of 16, becomes a TE kernel over the weight packed as (N/16, K/2, 16, 2) (the layout oneDNN and TVM's VNNI
dense use: one 64-byte row per instruction), the activation cast to bfloat16 before it (FuseOps fuses the cast
into the producer). MetaSchedule tensorizes the kernel with `DOT_16x2_BF16` through `MultiLevelTilingWithIntrin`
(`design_space` adds that rule to the CPU rules). Everything else stays float32.

TVM lowers bfloat16 arithmetic to float32 (BF16ComputeLegalize) and LLVM 22 wants `<32 x bfloat>` operands, so the
intrinsic's body reads the bfloat16 buffers as uint16 and calls a two-line LLVM IR function that bitcasts them
(`pragma_import_llvm`; LLVM inlines it).
"""

from __future__ import annotations

import ml_dtypes
import numpy as np
import tvm
from tvm import relax, te
from tvm.s_tir import TensorIntrin
from tvm.s_tir import meta_schedule as ms
from tvm.script import tirx as T

DOT_16x2_BF16 = "litecoop_dot_16x2_bf16"
CPU_FLAG = "avx512_bf16"  # /proc/cpuinfo's name of the feature

_LLVM_IR = """
define linkonce_odr <16 x float> @litecoop_dpbf16ps(<16 x float> %acc, <16 x i32> %a, <16 x i32> %b) alwaysinline {
  %a16 = bitcast <16 x i32> %a to <32 x bfloat>
  %b16 = bitcast <16 x i32> %b to <32 x bfloat>
  %r = call <16 x float> @llvm.x86.avx512bf16.dpbf16ps.512(<16 x float> %acc, <32 x bfloat> %a16, <32 x bfloat> %b16)
  ret <16 x float> %r
}
declare <16 x float> @llvm.x86.avx512bf16.dpbf16ps.512(<16 x float>, <32 x bfloat>, <32 x bfloat>)
"""


@T.prim_func(s_tir=True)
def _dot_desc(A: T.Buffer((2,), "bfloat16", offset_factor=1), B: T.Buffer((16, 2), "bfloat16", offset_factor=1),
              C: T.Buffer((16,), "float32", offset_factor=1)) -> None:
    with T.sblock("root"):
        T.reads(C[0:16], A[0:2], B[0:16, 0:2])
        T.writes(C[0:16])
        for i in T.serial(0, 16):
            for k in T.serial(0, 2):
                with T.sblock("update"):
                    vi, vk = T.axis.remap("SR", [i, k])
                    C[vi] = C[vi] + T.cast(A[vk], "float32") * T.cast(B[vi, vk], "float32")


@T.prim_func(s_tir=True)
def _dot_avx512_bf16(A: T.Buffer((2,), "bfloat16", offset_factor=1), B: T.Buffer((16, 2), "bfloat16", offset_factor=1),
                     C: T.Buffer((16,), "float32", offset_factor=1)) -> None:
    with T.sblock("root"):
        T.reads(C[0:16], A[0:2], B[0:16, 0:2])
        T.writes(C[0:16])
        A_bits = T.decl_buffer((2,), "uint16", data=A.data, elem_offset=A.elem_offset)
        B_bits = T.decl_buffer((32,), "uint16", data=B.data, elem_offset=B.elem_offset)
        pair = T.reinterpret("int32", A_bits.vload([0], "uint16x2"))
        with T.attr(T.int32(0), "pragma_import_llvm", _LLVM_IR):
            C[T.ramp(T.int32(0), 1, 16)] = T.call_pure_extern(
                "float32x16", "litecoop_dpbf16ps", C[T.ramp(T.int32(0), 1, 16)], T.broadcast(pair, 16),
                T.reinterpret("int32x16", B_bits.vload([0], "uint16x32")))


TensorIntrin.register(DOT_16x2_BF16, _dot_desc, _dot_avx512_bf16, override=True)


def pack_weight(weight: np.ndarray) -> np.ndarray:
    """A float32 weight (K, N) as bfloat16 (N/16, K/2, 16, 2): element [n // 16, k // 2, n % 16, k % 2] = W[k, n]."""
    k, n = weight.shape
    return np.ascontiguousarray(weight.astype(ml_dtypes.bfloat16).reshape(k // 2, 2, n // 16, 16).transpose(2, 0, 3, 1))


def _matmul_bf16(x: te.Tensor, packed: te.Tensor) -> te.Tensor:
    """x (..., K) bfloat16 times the packed weight (N/16, K/2, 16, 2) bfloat16 -> (..., N) float32."""
    k = te.reduce_axis((0, packed.shape[1] * 2), "k")
    shape = (*x.shape[:-1], packed.shape[0] * 16)
    return te.compute(shape, lambda *i: te.sum(
        x[(*i[:-1], k)].astype("float32") * packed[i[-1] // 16, k // 2, i[-1] % 16, k % 2].astype("float32"),
        axis=k), name="matmul_bf16")


def _packable(call: relax.Call) -> bool:
    x, weight = call.args
    if not isinstance(weight, tvm.ir.GenericConst) or weight.value.dtype != "float32":
        return False
    shape = weight.value.shape
    return (len(shape) == 2 and shape[0] % 2 == 0 and shape[1] % 16 == 0 and x.ty.dtype == "float32"
            and call.ty.dtype == "float32")


@relax.expr_functor.mutator
class _Bf16Matmuls(relax.PyExprMutator):
    def __init__(self, mod):
        super().__init__(mod)
        self.matmul = tvm.ir.Op.get("relax.matmul")
        self.rewritten = 0

    def visit_call_(self, call):
        call = super().visit_call_(call)
        if not (isinstance(call, relax.Call) and call.op.same_as(self.matmul) and _packable(call)):
            return call
        self.rewritten += 1
        x = self.builder_.emit(relax.op.astype(call.args[0], "bfloat16"))
        packed = relax.const(tvm.runtime.tensor(pack_weight(call.args[1].value.numpy())))
        return self.builder_.call_te(_matmul_bf16, x, packed, primfunc_name_hint="matmul_bf16")


def to_bf16_matmuls(mod) -> tuple[object, int]:
    """`mod` (a Relax IRModule whose weights are constants, inference rewrites applied) with its matmuls by constant
    float32 weights computed in bfloat16 as the module docstring says; returns it and the number of matmuls
    rewritten (0: nothing to gain)."""
    mutator = _Bf16Matmuls(mod)
    for var, func in list(mod.functions.items()):
        if isinstance(func, relax.Function):
            mutator.builder_.update_func(var, mutator.visit_expr(func))
    return mutator.builder_.get(), mutator.rewritten


def design_space() -> ms.space_generator.PostOrderApply:
    """MetaSchedule's CPU design space (ScheduleRule and Postproc "llvm") with the bfloat16 dot product: blocks that
    `DOT_16x2_BF16` can compute are tiled around it (MultiLevelTilingWithIntrin, before the plain MultiLevelTiling)
    and tensorized after sampling (RewriteTensorize)."""
    rules = list(ms.ScheduleRule.create("llvm"))
    tiling = next(i for i, rule in enumerate(rules) if type(rule).__name__ == "MultiLevelTiling")
    rules.insert(tiling, ms.schedule_rule.MultiLevelTilingWithIntrin(
        DOT_16x2_BF16, structure="SSRSRS", max_innermost_factor=64,
        reuse_write=ms.schedule_rule.ReuseType(req="may", levels=[1, 2], scope="global")))
    postprocs = list(ms.Postproc.create("llvm"))
    postprocs.insert(3, ms.postproc.RewriteTensorize(vectorize_init_loop=True))
    return ms.space_generator.PostOrderApply(sch_rules=rules, postprocs=postprocs, mutator_probs="llvm")
