"""Attention as one kernel on CPUs, and its MetaSchedule design space.

`softmax(Q K^T * scale + bias) V` is computed a tile of query rows at a time: the tile's scores, their row maxima and
sums and the weighted sum of V are produced and consumed inside the tile, so that the scores never leave the cache
(flash attention's idea, without its online softmax: a tile's whole rows of scores fit in L2 at the zoo's sequence
lengths). Unfused, Whisper-tiny's encoder writes and reads 6 x 1500 x 1500 scores per layer through memory, in three
kernels.

`attention_func` builds the kernel for one shape as a TE PrimFunc: K and V are first packed in 16-key and 16-channel
panels (zero padded, so that any sequence length computes on whole vectors; padded keys are masked out of the
softmax), Q's rows are padded to a multiple of 8. Its output block names the custom schedule rule `RULE`, whose
template (`schedule_attention`) is the task's design space: the row tile, the register tile's rows and the two
vector widths are `SamplePerfectTile` decisions, which MetaSchedule's mutators, the cost model and the tree search
treat like any other tile. Semantics are the safe softmax's: a row whose logits are all -inf gives zeros.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import tvm
from tvm import te, tirx, topi

RULE = "litecoop_fused_attention"  # the output block's "schedule_rule" annotation
LANES = 16  # float32 lanes of an AVX-512 vector
ROW_PAD = 8  # query rows are padded to a multiple of this
MAX_REGISTER_ROWS = 8  # rows of the register tile
MAX_VECTORS = 4  # vectors per row of the register tile
CACHE_BYTES = 1 << 19  # a row tile's scores and probabilities stay within this many bytes


def _ceil_to(value: int, multiple: int) -> int:
    return (value + multiple - 1) // multiple * multiple


def _unravel(flat, shape) -> list:
    """The indices into `shape` of a flat index over its product, broadcast dimensions (extent 1) at 0."""
    indices, stride = [], math.prod(shape)
    for extent in shape:
        stride //= extent
        indices.append(0 if extent == 1 else (flat // stride) % extent)
    return indices


def _ravel(indices, shape):
    """The flat index of `indices` into `shape` (row-major)."""
    flat = 0
    for index, extent in zip(indices, shape):
        flat = flat * extent + index
    return flat


@dataclass(frozen=True)
class Operand:
    """An input as the kernel reads it: a tensor of `shape` that, permuted by `axes` (permute_dims' meaning), has the
    shape (*L, R, C), L a split of the batch (its product)."""

    shape: tuple[int, ...]
    axes: tuple[int, ...]

    @property
    def logical_shape(self) -> list[int]:
        return [self.shape[axis] for axis in self.axes]

    def read(self, tensor, b, row, column):
        """`tensor`'s element at (batch `b`, `row`, `column`) of the permuted view."""
        logical = [*_unravel(b, self.logical_shape[:-2]), row, column]
        index = [0] * len(self.axes)
        for position, axis in enumerate(self.axes):
            index[axis] = logical[position]
        return tensor[tuple(index)]


def attention_func(q: Operand, k: Operand, v: Operand, out_shape, scale: float, bias_shape=None, scores_lead=()):
    """The PrimFunc `main(q, k, v[, bias], out)` of `softmax(q k^T * scale + bias) v`, float32.

    q: (*L, N, D); k: (*L, D, M) (K transposed); v: (*L, M, Dv); out: (*Lo, N, Dv), each read through its `Operand`
    permutation and each L its own split of the batch. bias: broadcast (numpy's rules) to (*scores_lead, N, M).
    `scale` must be positive. Raises ValueError for shapes it cannot take (Dv not a multiple of 16)."""
    *q_lead, rows, depth = q.logical_shape
    keys, value_depth = v.logical_shape[-2:]
    batch = math.prod(q_lead)
    if value_depth % LANES or scale <= 0:
        raise ValueError(f"fused attention needs a value depth that is a multiple of {LANES} and a positive scale")
    padded_rows, padded_keys = _ceil_to(rows, ROW_PAD), _ceil_to(keys, LANES)
    q_in, k_in, v_in = (te.placeholder(x.shape, "float32", name) for x, name in ((q, "q"), (k, "k"), (v, "v")))
    bias = te.placeholder(bias_shape, "float32", "bias") if bias_shape is not None else None

    def bias_at(b, i, j):  # padded rows and keys read the last real one (their logits are masked)
        lead = _unravel(b, scores_lead)[len(scores_lead) - len(bias.shape) + 2:]
        lead = [0 if int(extent) == 1 else index for extent, index in zip(bias.shape[:-2], lead)]
        rows_, keys_ = (0 if int(extent) == 1 else tirx.min(x, last)
                        for extent, x, last in zip(bias.shape[-2:], (i, j), (rows - 1, keys - 1)))
        return bias[(*lead, rows_, keys_)]

    q_pad = te.compute((batch, padded_rows, depth), lambda b, i, d: tirx.if_then_else(
        i < rows, q.read(q_in, b, i, d), 0.0), name="q_pad")
    k_pack = te.compute((batch, padded_keys // LANES, depth, LANES), lambda b, jo, d, jv: tirx.if_then_else(
        jo * LANES + jv < keys, k.read(k_in, b, d, jo * LANES + jv), 0.0), name="k_pack")
    v_pack = te.compute((batch, value_depth // LANES, padded_keys, LANES), lambda b, co, j, cv: tirx.if_then_else(
        j < keys, v.read(v_in, b, j, co * LANES + cv), 0.0), name="v_pack")
    d = te.reduce_axis((0, depth), "d")
    scores = te.compute((batch, padded_rows, padded_keys), lambda b, i, j: te.sum(
        q_pad[b, i, d] * k_pack[b, j // LANES, d, j % LANES], axis=d), name="scores")
    neg_inf = tirx.const(-math.inf, "float32")

    def logit(b, i, j):  # -inf for a padded key (a Select reads both branches: vector loads, no masked ones)
        value = scores[b, i, j] * scale
        if bias is not None:
            value = value + bias_at(b, i, j)
        return tirx.Select(j < keys, value, neg_inf)

    logits = te.compute((batch, padded_rows, padded_keys), logit, name="logits")
    j = te.reduce_axis((0, padded_keys), "j")
    row_max = te.compute((batch, padded_rows), lambda b, i: te.max(logits[b, i, j], axis=j), name="row_max")
    shifted = te.compute(logits.shape, lambda b, i, j: logits[b, i, j] - row_max[b, i], name="shifted")
    exps = topi.fast_exp(shifted)
    probs = te.compute(logits.shape, lambda b, i, j: tirx.Select(  # 0 below e^-80 (-inf too), never a denormal
        shifted[b, i, j] < -80.0, 0.0, exps[b, i, j]), name="probs")
    j = te.reduce_axis((0, padded_keys), "j")
    row_sum = te.compute((batch, padded_rows), lambda b, i: te.sum(probs[b, i, j], axis=j), name="row_sum")
    j = te.reduce_axis((0, padded_keys), "j")
    weighted = te.compute((batch, padded_rows, value_depth), lambda b, i, c: te.sum(
        probs[b, i, j] * v_pack[b, c // LANES, j, c % LANES], axis=j), name="weighted")
    normalized = te.compute(weighted.shape, lambda b, i, c: tirx.Select(  # a row of -inf logits sums to 0: zeros
        row_sum[b, i] == 0.0, 0.0, weighted[b, i, c] / row_sum[b, i]), name="normalized")
    out = te.compute(out_shape, lambda *index: normalized[_ravel(index[:-2], out_shape[:-2]), index[-2], index[-1]],
                     name="out")
    func = te.create_prim_func([q_in, k_in, v_in, *([bias] if bias is not None else []), out])
    sch = tvm.s_tir.Schedule(func)
    root = sch.get_sblock("root")
    for block in [root, *sch.get_child_blocks(root)]:  # other rules would parallelize the parallel loops again
        sch.annotate(block, "schedule_rule", RULE if sch.get(block).name_hint == "out" else "None")
    return sch.mod["main"].with_attrs({"global_symbol": "fused_attention", "op_pattern": 8})  # 8: opaque, unfused


def _register_tiled_reduction(sch, block, rows, register_rows, vector_loop, reduction_loop):
    """The register tile of a matmul-like block whose `vector_loop` (a multiple of 16) indexes 16-wide panels: its
    panels split three ways by a SamplePerfectTile (the vectors innermost, 1 to `MAX_VECTORS`), as MultiLevelTiling
    tiles its spatial loops around the reduction: (panel blocks, rows / r, vector blocks, reduction, r unrolled,
    vectors unrolled, 16 lanes vectorized), so that each vector reads one panel row."""
    row_outer, row_inner = sch.split(rows, [None, register_rows])
    panels, lanes = sch.split(vector_loop, [None, LANES])
    panel_blocks, vector_blocks, vectors = sch.split(
        panels, sch.sample_perfect_tile(panels, n=3, max_innermost_factor=MAX_VECTORS))
    sch.reorder(panel_blocks, row_outer, vector_blocks, reduction_loop, row_inner, vectors, lanes)
    sch.unroll(row_inner)
    sch.unroll(vectors)
    sch.vectorize(lanes)
    sch.decompose_reduction(block, reduction_loop)


def schedule_attention(sch, out_block):
    """The design space of a fused attention task (`attention_func`), as a MetaSchedule custom rule: returns [sch]
    with K, V and Q packed in parallel loops over the batch; then, in parallel over (batch, row tile), each row tile's
    scores (a register-tiled matmul over 16-key panels), row maxima and sums (16-lane partial reductions,
    MetaSchedule's rfactor), probabilities and weighted sum of V (register-tiled over 16-channel panels). Decisions,
    each a SamplePerfectTile whose every factor shapes the program (no two traces of one schedule): the row tile
    (8-row groups, its scores and probabilities within `CACHE_BYTES`), the register tile's rows (a divisor of the
    padded rows up to 8) and each register tile's panel tiling. (MetaSchedule's 2-way sampler draws the whole extent
    when it is at most the innermost maximum: a sequence that fits `CACHE_BYTES` is one tile.)"""
    block = {name: sch.get_sblock(name) for name in ("q_pad", "k_pack", "v_pack", "scores", "logits", "row_max",
                                                    "shifted", "T_fast_exp", "probs", "row_sum", "weighted",
                                                    "normalized")}
    for name in ("q_pad", "k_pack", "v_pack"):
        loops = sch.get_loops(block[name])
        sch.parallel(sch.fuse(*loops[:2]))
        sch.vectorize(loops[-1])
    for name in ("logits", "shifted", "T_fast_exp"):
        sch.compute_inline(block[name])
    for name in ("row_max", "row_sum"):
        *_, keys = sch.get_loops(block[name])
        block[name + "_rf"] = partial = sch.rfactor(sch.split(keys, [None, LANES])[1], 2)
        sch.reorder_block_iter_var(partial, [1, 2, 3, 0])  # (lanes, batch, rows, keys) -> lanes innermost
    batch, rows, _ = sch.get_loops(block["normalized"])
    register_rows = sch.sample_perfect_tile(rows, n=2, max_innermost_factor=MAX_REGISTER_ROWS)[1]
    groups, _ = sch.split(rows, [None, ROW_PAD])
    padded_keys = int(sch.get(sch.get_loops(block["probs"])[-1]).extent)
    tile_groups = max(1, CACHE_BYTES // (8 * padded_keys * ROW_PAD))
    tiles, _ = sch.split(groups, sch.sample_perfect_tile(groups, n=2, max_innermost_factor=tile_groups))
    parallel = sch.fuse(batch, tiles)
    sch.parallel(parallel)
    for name in ("weighted", "row_sum", "row_sum_rf", "probs", "row_max", "row_max_rf", "scores"):
        sch.compute_at(block[name], parallel)
    sch.reverse_compute_at(out_block, parallel)
    for name in ("normalized", "probs"):
        sch.vectorize(sch.split(sch.get_loops(block[name])[-1], [None, LANES])[1])
    sch.vectorize(sch.get_loops(out_block)[-1])
    for name in ("row_max_rf", "row_sum_rf"):  # compute_at left no loop of extent 1
        sch.vectorize(sch.get_loops(block[name])[-1])
    _, rows_loop, keys, depth = sch.get_loops(block["scores"])
    _register_tiled_reduction(sch, block["scores"], rows_loop, register_rows, keys, depth)
    _, rows_loop, channels, keys = sch.get_loops(block["weighted"])
    _register_tiled_reduction(sch, block["weighted"], rows_loop, register_rows, channels, keys)
    return [sch]


tvm.register_global_func(f"s_tir.meta_schedule.cpu.{RULE}", schedule_attention, override=True)
