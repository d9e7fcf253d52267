"""bfloat16 matmuls on CPUs with AVX512-BF16: weights stored in bfloat16, activations cast to bfloat16, products
summed in float32 by the `vdpbf16ps` instruction (16 float32 lanes, each += the dot product of 2 bfloat16 pairs).

`rewrite` (applied by `packed_matmul.rewrite_const_weight_matmuls`) changes a Relax module: every matmul by a
constant float32 weight of shape (K, N), K even and N a multiple of 16, becomes a TE kernel over the weight packed as
(N/16, K/2, 16, 2) (the layout oneDNN and TVM's VNNI dense use: one 64-byte row per instruction), the activation
cast to bfloat16 before it (FuseOps fuses the cast into the producer). MetaSchedule tensorizes the kernel with
`DOT_16x2_BF16` (`design_space`). Everything else stays float32.

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
from tvm.script import tirx as T

from litecoop.build import packed_matmul

DOT_16x2_BF16 = "litecoop_dot_16x2_bf16"

_LLVM_IR = packed_matmul.bitcast_call("litecoop_dpbf16ps", "llvm.x86.avx512bf16.dpbf16ps.512", "<16 x float>",
                                     "<32 x bfloat>")


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


def rewrite(builder, x, weight: np.ndarray):
    """`R.matmul(x, weight)` in bfloat16 (a `packed_matmul.Rewrite`): K even and N a multiple of 16, else None."""
    k, n = weight.shape
    if k % 2 or n % 16:
        return None
    x = builder.emit(relax.op.astype(x, "bfloat16"))
    packed = relax.const(tvm.runtime.tensor(pack_weight(weight)))
    return builder.call_te(_matmul_bf16, x, packed, primfunc_name_hint="matmul_bf16")


def design_space():
    """MetaSchedule's CPU design space with `DOT_16x2_BF16` (packed_matmul.design_space)."""
    return packed_matmul.design_space(DOT_16x2_BF16)
