"""int8 matmuls on CPUs with AVX512-VNNI, quantized dynamically as onnxruntime's `quantize_dynamic` does: weights
quantized once, symmetric per output channel, to int8; activations quantized at every call, asymmetric per row
(per token; onnxruntime quantizes per tensor), to uint8; products summed in int32 by `vpdpbusd` (16 int32
lanes, each += the dot product of 4 uint8 x int8 pairs), then scaled back to float32.

`rewrite` (applied by `packed_matmul.rewrite_const_weight_matmuls`) changes a Relax module: every matmul by a
constant float32 weight of shape (K, N), K a multiple of 4 and N of 16, becomes two TE kernels:

    quantize_u8   x (..., K) float32 -> per row, its min and max, scale s = (max - min) / 255 (the range holding
                  0), zero point z = round(-min / s); x_q = clip(round(x / s) + z, 0, 255) as uint8
    matmul_int8   acc[..., n] = sum_k x_q[..., k] * W_q[k, n] (int32, W_q packed as (N/16, K/4, 16, 4), the layout of
                  TVM's VNNI dense), then
                  y = (acc - z * sum_k W_q[k, n]) * s * w_scale[n] in float32

MetaSchedule tensorizes `matmul_int8` with `DOT_16x4_VNNI` (`design_space`). Everything else stays float32. The
intrinsic describes the block as TVM's x86 VNNI intrinsic does, but LLVM 22 wants `<64 x i8>` operands where TVM's
implementation passes `<16 x i32>`, so its body calls a two-line LLVM IR function that bitcasts them
(`pragma_import_llvm`; LLVM inlines it).
"""

from __future__ import annotations

import numpy as np
import tvm
from tvm import relax, te
from tvm.s_tir import TensorIntrin
from tvm.script import tirx as T

from litecoop.build import packed_matmul
from litecoop.build.intrinsics import import_tensor_intrinsics

import_tensor_intrinsics(tvm.target.Target("llvm"))  # x86's alone: the package's own import parses every vendor's
from tvm.s_tir.tensor_intrin.x86 import dot_product_16x4_u8i8i32_desc  # noqa: E402

DOT_16x4_VNNI = "litecoop_dot_16x4_vnni"

_LLVM_IR = packed_matmul.bitcast_call("litecoop_vpdpbusd", "llvm.x86.avx512.vpdpbusd.512", "<16 x i32>", "<64 x i8>")


@T.prim_func(s_tir=True)
def _dot_vnni(A: T.Buffer((4,), "uint8", offset_factor=1), B: T.Buffer((16, 4), "int8", offset_factor=1),
              C: T.Buffer((16,), "int32", offset_factor=1)) -> None:
    with T.sblock("root"):
        T.reads(C[0:16], A[0:4], B[0:16, 0:4])
        T.writes(C[0:16])
        quad = T.reinterpret("int32", A.vload([0], "uint8x4"))
        with T.attr(T.int32(0), "pragma_import_llvm", _LLVM_IR):
            C[T.ramp(T.int32(0), 1, 16)] = T.call_pure_extern(
                "int32x16", "litecoop_vpdpbusd", C[T.ramp(T.int32(0), 1, 16)], T.broadcast(quad, 16),
                T.reinterpret("int32x16", B.vload([0, 0], "int8x64")))


TensorIntrin.register(DOT_16x4_VNNI, dot_product_16x4_u8i8i32_desc, _dot_vnni, override=True)


def quantize_weight(weight: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A float32 weight (K, N) quantized symmetrically per output channel: the int8 weight packed as
    (N/16, K/4, 16, 4) (element [n // 16, k // 4, n % 16, k % 4] = W_q[k, n]), its column sums (N,) int32, and
    the scales (N,) float32 with W ~= W_q * scale."""
    k, n = weight.shape
    scale = np.maximum(np.abs(weight).max(axis=0), np.finfo(np.float32).tiny) / 127
    quantized = np.clip(np.rint(weight / scale), -127, 127).astype(np.int8)
    packed = np.ascontiguousarray(quantized.reshape(k // 4, 4, n // 16, 16).transpose(2, 0, 3, 1))
    return packed, quantized.astype(np.int32).sum(axis=0, dtype=np.int32), scale.astype(np.float32)


def _quantize_u8(x: te.Tensor) -> list[te.Tensor]:
    """x (..., K) float32 -> x_q (..., K) uint8 and, per row (...), the scale float32 and the zero point int32."""
    rows, k_min, k_max = x.shape[:-1], te.reduce_axis((0, x.shape[-1]), "k"), te.reduce_axis((0, x.shape[-1]), "k")
    low = te.compute(rows, lambda *r: te.min(x[(*r, k_min)], axis=k_min), name="x_min")
    high = te.compute(rows, lambda *r: te.max(x[(*r, k_max)], axis=k_max), name="x_max")
    scale = te.compute(rows, lambda *r: te.max((te.max(high[r], 0.0) - te.min(low[r], 0.0)) / 255, 1e-12),
                       name="x_scale")
    zero = te.compute(rows, lambda *r: te.round(-te.min(low[r], 0.0) / scale[r]).astype("int32"), name="x_zero_point")
    inverse = te.compute(rows, lambda *r: 1.0 / scale[r], name="x_inverse_scale")
    quantized = te.compute(x.shape, lambda *i: te.max(te.min(
        te.round(x[i] * inverse[i[:-1]]) + zero[i[:-1]].astype("float32"), 255.0), 0.0).astype("uint8"), name="x_u8")
    return [quantized, scale, zero]


def _matmul_int8(x_q: te.Tensor, packed: te.Tensor, column_sums: te.Tensor, w_scale: te.Tensor, scale: te.Tensor,
                 zero: te.Tensor) -> te.Tensor:
    """x_q (..., K) uint8 times the packed int8 weight (N/16, K/4, 16, 4), dequantized -> (..., N) float32."""
    k = te.reduce_axis((0, packed.shape[1] * 4), "k")
    shape = (*x_q.shape[:-1], packed.shape[0] * 16)
    acc = te.compute(shape, lambda *i: te.sum(
        x_q[(*i[:-1], k)].astype("int32") * packed[i[-1] // 16, k // 4, i[-1] % 16, k % 4].astype("int32"),
        axis=k), name="matmul_int8")
    return te.compute(shape, lambda *i: (acc[i] - zero[i[:-1]] * column_sums[i[-1]]).astype("float32")
                      * (scale[i[:-1]] * w_scale[i[-1]]), name="dequantize")


def rewrite(builder, x, weight: np.ndarray):
    """`R.matmul(x, weight)` in int8 (a `packed_matmul.Rewrite`): K a multiple of 4 and N of 16, else None."""
    k, n = weight.shape
    if k % 4 or n % 16:
        return None
    packed, column_sums, w_scale = (relax.const(tvm.runtime.tensor(a)) for a in quantize_weight(weight))
    quantized = builder.emit(builder.call_te(_quantize_u8, x, primfunc_name_hint="quantize_u8"))
    x_q, scale, zero = (builder.emit(relax.TupleGetItem(quantized, i)) for i in range(3))
    return builder.call_te(_matmul_int8, x_q, packed, column_sums, w_scale, scale, zero,
                           primfunc_name_hint="matmul_int8")


def design_space():
    """MetaSchedule's CPU design space with `DOT_16x4_VNNI` (packed_matmul.design_space)."""
    return packed_matmul.design_space(DOT_16x4_VNNI)
