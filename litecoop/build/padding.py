"""Matmul loops padded to whole vectors: a fused kernel's matmul whose loops tile badly (`_awkward`: ViT's 197 tokens,
Whisper's Q.K^T over 1500 keys) computes on a zero-padded copy of its activations (TVM's `pad_einsum`), so that
MetaSchedule can tile it in whole vectors and register blocks instead of the divisors the odd extent has (197 is
prime: a row tile is 1 or 197). ViT-B/16 after a 3-minute search on an Intel Xeon: 204 ms
padded against 248 ms unpadded, one alternated series (results/padding).
"""

from __future__ import annotations

import tvm
from tvm import tirx

from litecoop.errors import TVMError

VECTOR = 16  # float32 lanes of AVX-512; on narrower CPUs a multiple of their width too
MAX_OVERHEAD = 1 / 16  # padded work at most this fraction more than the kernel's own


def _padded(extent: int) -> int:
    return -(-extent // VECTOR) * VECTOR


def _awkward(extent: int, vectorized: bool) -> bool:
    """Whether a spatial loop of `extent` tiles badly: the output's innermost (vectorized) loop when it is not whole
    vectors, any other loop when no register tile of 4 to 16 divides it (197, a prime: 1 or 197; 196 has 4, 7, 14
    and ran slower padded to 208, ConvNeXt-T at 3 minutes, results/padding)."""
    if extent <= VECTOR or not extent % VECTOR:
        return False
    return vectorized or not any(extent % tile == 0 for tile in range(4, VECTOR + 1))


def _padding(block, fixed) -> list[int] | None:
    """pad_einsum's padding factors for `block` (one per block iter: the padded extent, or 1 to keep it), or None
    when no spatial iter tiles badly (`_awkward`) or the work would grow by more than MAX_OVERHEAD. Iters that index
    a buffer in `fixed` (weights, whose layout the build prepacks) are kept."""
    weight_iters = [r.min for region in block.reads if region.source in fixed for r in region.region]
    innermost = block.writes[0].region[-1].min
    factors, work, padded_work = [], 1, 1
    for iter_var in block.iter_vars:
        if not isinstance(iter_var.dom.extent, tirx.IntImm):
            return None
        extent = int(iter_var.dom.extent)
        pad = (iter_var.iter_type == tirx.IterVar.DataPar and _awkward(extent, iter_var.var.same_as(innermost))
               and not any(iter_var.var.same_as(index) for index in weight_iters))
        size = _padded(extent) if pad else extent
        factors.append(size if pad else 1)
        work, padded_work = work * extent, padded_work * size
    if all(f == 1 for f in factors) or padded_work > work * (1 + MAX_OVERHEAD):
        return None
    return factors


def _loads(expr) -> bool:
    return isinstance(expr, tvm.ir.expr.TensorLoad) or (isinstance(expr, tirx.Cast) and _loads(expr.value))


def _is_matmul(block) -> bool:
    """Whether `block` reduces a product of two buffers: `C[...] = C[...] + A[...] * B[...]` (casts allowed)."""
    body = block.body
    if not (isinstance(body, tirx.BufferStore) and isinstance(body.value, tirx.Add)
            and any(v.iter_type == tirx.IterVar.CommReduce for v in block.iter_vars)):
        return False
    return any(isinstance(term, tirx.Mul) and _loads(term.a) and _loads(term.b)
               for term in (body.value.a, body.value.b))


def _matmul_blocks(sch) -> list:
    """The blocks of `sch`'s main function that are matmuls."""
    root = sch.get_sblock("root", func_name="main")
    return [block for block in sch.get_child_blocks(root) if _is_matmul(sch.get(block))]


def pad_func(func: tirx.PrimFunc) -> tirx.PrimFunc:
    """`func` with each matmul block whose loops tile badly padded (`_padding`, pad_einsum); the function
    unchanged where there is none or TVM cannot pad it (a convolution's windowed reads are not an einsum)."""
    sch = tvm.s_tir.Schedule(tvm.IRModule({"main": func}))
    free = func.attrs.get("layout_free_buffers", []) if func.attrs else []
    fixed = [func.params[int(i)] for i in free]
    changed = False
    for block_rv in _matmul_blocks(sch):
        padding = _padding(sch.get(block_rv), fixed)
        if padding is None:
            continue
        try:
            sch.pad_einsum(block_rv, padding)
            changed = True
        except TVMError:
            continue
    return sch.mod["main"] if changed else func


@tvm.transform.module_pass(opt_level=0, name="PadMatmulsToVectors")
def pad_matmuls_to_vectors(mod, _ctx):
    """Every fused PrimFunc of `mod` through `pad_func`."""
    for var, func in list(mod.functions.items()):
        if isinstance(func, tirx.PrimFunc):
            mod[var] = pad_func(func)
    return mod
