"""From a Relax module to a compiled library, as the final build and task extraction share it.

Inference rewrites (batch norms folded into the convolutions before them; on CPUs, dense convolutions in NHWC) ->
fusion (on CPUs: fast float32 math, attention's layout copies and the reshapes around linear layers fused into the
matmuls, weights marked layout-free, matmuls of odd extents padded to whole vectors) -> MetaSchedule task extraction; and from a
tuning database: schedules applied, weights prepacked at build time (TVM's `cpu_weight_prepack` flow).
"""

from __future__ import annotations

import logging

import tvm
from tvm import relax
from tvm_ffi import structural_equal
from tvm.relax.backend.cpu_generic import pipeline as cpu_pipeline
from tvm.relax.dpl import is_op, rewrite_call, wildcard
from tvm.s_tir import meta_schedule as ms

from litecoop.build.fast_math import LEGALIZE
from litecoop.build.fusion_patterns import (fuse_layouts_into_activation_matmuls, keep_pads_apart,
                                             reshapes_as_elementwise)
from litecoop.build.padding import pad_matmuls_to_vectors
from litecoop.build.verify import runs_here, verified_database
from litecoop.errors import TVMError, UserError
from litecoop.measure import timing
from litecoop.workload import Workload


def _cpu_pipeline(target) -> bool:
    """Whether `target` builds with this project's CPU pipeline: fast float32 math (litecoop.build.fast_math), the
    fusion of layout copies and reshapes into matmuls, and weights prepacked at build time; other targets build with
    MetaSchedule's `compile_relax`, whose fusion their tasks' extraction must match."""
    return target.kind.name == "llvm"


# A batch norm right after a convolution becomes a scale of its weights and a bias add, which FuseOps then fuses into
# the convolution with the activation after it (as onnxruntime and OpenVINO do); FoldConstant computes the scaled
# weights (ConvertLayout crashes on the unfolded arithmetic); any other batch norm is decomposed into elementwise
# arithmetic, and CanonicalizeBindings drops the tuple it returned, which would stop fusion. ResNet-50: 43 tasks -> 28;
# MobileNetV2: 76 -> 61.
INFERENCE_REWRITES = (relax.transform.FoldBatchnormToConv2D, relax.transform.FoldConstant,
                      relax.transform.DecomposeOpsForInference, relax.transform.CanonicalizeBindings)


def _conv2d_count(mod) -> int:
    """How many conv2d calls the Relax functions of `mod` make."""
    conv2d, calls = tvm.ir.Op.get("relax.nn.conv2d"), []
    for func in mod.functions.values():
        if isinstance(func, relax.Function):
            relax.analysis.post_order_visit(func, lambda expr: calls.append(expr) if (
                isinstance(expr, relax.Call) and expr.op.same_as(conv2d)) else None)
    return len(calls)


@tvm.transform.module_pass(opt_level=0, name="FoldPadsIntoConvolutions")
def fold_pads_into_convolutions(mod, _ctx):
    """A zero `nn.pad` of the spatial axes that feeds a 2-D convolution becomes the convolution's own padding (as
    onnxruntime's and OpenVINO's graph optimizers fold it), so that the convolution reads its input in place instead
    of a padded copy written by a kernel of its own, and the layout conversion passes through (TVM's ConvertLayout
    does not convert `nn.pad`). Models ported from TensorFlow pad explicitly (Hugging Face's MobileNetV2: 17 pads)."""
    pad = is_op("relax.nn.pad")(wildcard())
    conv = is_op("relax.nn.conv2d")(pad, wildcard())

    def rewrite(call, matches):
        attrs, padded = call.attrs, matches[pad].attrs
        widths = [int(w) for w in padded.pad_width]
        if (padded.pad_mode != "constant" or float(padded.pad_value) != 0.0 or attrs.data_layout != "NCHW"
                or len(widths) != 8 or any(widths[:4])):
            return call
        top, left, bottom, right = (int(p) for p in attrs.padding)
        padding = [top + widths[4], left + widths[6], bottom + widths[5], right + widths[7]]
        return relax.op.nn.conv2d(matches[pad].args[0], call.args[1], attrs.strides, padding, attrs.dilation,
                                  attrs.groups, attrs.data_layout, attrs.kernel_layout, attrs.out_layout,
                                  attrs.out_dtype)

    return _rewrite_calls(mod, conv, rewrite)


def _rewrite_calls(mod, pattern, rewrite):
    """`mod` with TVM's `rewrite_call(pattern, rewrite, f)` applied to each Relax function f, then dead code
    eliminated."""
    for var, func in list(mod.functions.items()):
        if isinstance(func, relax.Function):
            mod[var] = rewrite_call(pattern, rewrite, func)
    return relax.transform.DeadCodeElimination()(mod)


@tvm.transform.module_pass(opt_level=0, name="DropMultipliesByOne")
def drop_multiplies_by_one(mod, _ctx):
    """`x * 1` becomes `x` (exact in floating point). torch's scaled_dot_product_attention, exported with scale 1,
    multiplies Q and K by sqrt(1) (Whisper's attention scales Q in its projection instead); inlined into the Q.K^T
    kernel, each such multiply costs one more operation per multiply-add."""
    multiply = is_op("relax.multiply")(wildcard(), wildcard())

    def rewrite(call, _matches):
        for this, other in (call.args, reversed(call.args)):
            value = other.value.numpy() if isinstance(other, tvm.ir.GenericConst) else None
            if value is not None and value.size == 1 and value.item() == 1 and structural_equal(this.ty, call.ty):
                return this
        return call

    return _rewrite_calls(mod, multiply, rewrite)


def _clips_as_min_max(func):
    """`clip(x, lo, hi)` as `minimum(maximum(x, lo), hi)`: the same kernel once fused, but elementwise arithmetic
    that ConvertLayout carries through (it has no layout rule for clip, and would wrap each ReLU6 in two transposes)."""
    clip = is_op("relax.clip")(wildcard(), wildcard(), wildcard())

    def rewrite(call, matches):
        data, low, high = call.args
        dtype = data.ty.dtype
        return relax.op.minimum(relax.op.maximum(data, relax.const(float(low.value), dtype)),
                                relax.const(float(high.value), dtype))

    return rewrite_call(clip, rewrite, func)


@tvm.transform.module_pass(opt_level=0, name="ChannelsLast")
def channels_last(mod, _ctx):
    """Convolutions in NHWC with OHWI weights (TVM's ConvertLayout; a layout transform where the model's NCHW meets
    them), where a model has two convolutions or more (a lone convolution pays two transposes; ConvertLayout also ran
    out of memory on a BERT), depthwise and grouped ones included. Clips (ReLU6) become min/max first, so that the
    layouts propagate through them. On CPUs MetaSchedule then vectorizes over the contiguous channels. At a 3-minute
    search, each timed with its peers: ResNet-50 ran at 2.14x the best peer's latency in NHWC (261 trials) against
    4.42x in NCHW (152 trials, on an earlier machine of the same kind). With its pads folded into the convolutions
    (`fold_pads_into_convolutions`), MobileNetV2's NHWC build ran 1.43x faster than its NCHW build and ConvNeXt-T's
    1.16x (3-minute searches; the builds timed alternately in one process, results/channels-last)."""
    if _conv2d_count(mod) < 2:
        return mod
    for var, func in list(mod.functions.items()):
        if isinstance(func, relax.Function):
            mod[var] = _clips_as_min_max(func)
    return relax.transform.ConvertLayout({"relax.nn.conv2d": ["NHWC", "OHWI"]})(mod)


def _fusion_passes(target) -> list:
    cpu = _cpu_pipeline(target)
    passes = [*(rewrite() for rewrite in INFERENCE_REWRITES),
              *([drop_multiplies_by_one, fold_pads_into_convolutions, channels_last] if cpu else []),
              *relax.pipeline.library_dispatch_passes(target),
              relax.transform.LegalizeOps(LEGALIZE if cpu else None), relax.transform.AnnotateTIROpPattern(),
              keep_pads_apart, relax.transform.FoldConstant(),
              *([fuse_layouts_into_activation_matmuls, reshapes_as_elementwise] if cpu else []),
              relax.transform.FuseOps(), relax.transform.FuseTIR()]
    return passes + [relax.transform.AttachAttrLayoutFreeBuffers(), pad_matmuls_to_vectors] if cpu else passes


def fuse(mod, target):
    """Legalize and fuse a Relax module as `compile_tuned` does, so task keys match. On CPUs transcendental
    operators legalize to fast float32 approximations (litecoop.build.fast_math) and the fused functions mark their
    constant (weight) buffers layout-free, so that tuning may choose their layout."""
    with target:
        return tvm.transform.Sequential(_fusion_passes(target))(mod)


def prepacked_module(database, fused, target, prepack: bool = True):
    """`fused` (a module as `fuse` returns it) with the schedules in `database` (a MetaSchedule Database)
    applied, and on CPUs (unless `prepack` is False: then each call repacks its weights inside the kernels) the
    weight layout transforms that tuning chose (MetaSchedule's RewriteLayout) split out of the kernels and folded into
    the constants (SplitLayoutRewritePreproc, LiftTransformParams, FoldConstant, as in TVM's
    `static_shape_tuning_pipeline(cpu_weight_prepack=True)`): a call reads prepacked weights instead of repacking
    them. Returns the Relax IRModule before lowering; call inside `with target, database`."""
    mod = relax.transform.MetaScheduleApplyDatabase()(fused)
    if not (_cpu_pipeline(target) and prepack):
        return mod
    return tvm.transform.Sequential([relax.transform.SplitLayoutRewritePreproc(), relax.transform.LiftTransformParams(),
                                     relax.transform.FoldConstant()])(mod)


def compile_tuned(database, mod, target, fused=None):
    """Build `mod` with the schedules in `database` (a MetaSchedule Database); returns a relax.VMExecutable.
    `fused`: `fuse(mod, target)` where the caller has it already (fusing a zoo model takes seconds). On
    CPUs each task's schedule is the best one that computes the right results (`verify.verified_database`) and
    the weights are prepacked at build time (`prepacked_module`); where TVM's prepacking pass fails on a module
    (SplitLayoutRewritePreproc rejects some, e.g. GPT-2's), it builds without prepacking. Other targets build with
    MetaSchedule's `compile_relax`. Raises UserError (one line) when no build succeeds."""
    try:
        if not _cpu_pipeline(target):
            return ms.relax_integration.compile_relax(database, mod, target, None)
        fused = fuse(mod, target) if fused is None else fused  # 12 s for ResNet-50's constants
        if runs_here(target):
            database = verified_database(database, ms.relax_integration.extract_tasks(fused, target), target)
        try:
            return _cpu_build(database, fused, target, prepack=True)
        except TVMError as err:
            logging.getLogger(__name__).warning("weight prepacking failed (%s); building without it",
                                                str(err).strip().splitlines()[-1][:200])
            return _cpu_build(database, fused, target, prepack=False)
    except TVMError as err:
        raise UserError(f"the final build failed: {str(err).strip().splitlines()[-1][:300]}") from None


def _cpu_build(database, fused, target, prepack: bool):
    # relax.pipeline.dataflow_lower_passes fails for llvm in TVM 0.27 (cpu_generic does not export it)
    lower = [*cpu_pipeline.dataflow_lower_passes(target), *cpu_pipeline.finalize_passes(target)]

    @tvm.transform.module_pass(opt_level=3)
    def pipeline(mod, _ctx):
        return tvm.transform.Sequential(lower)(prepacked_module(database, mod, target, prepack))

    with target, database, tvm.transform.PassContext(opt_level=3):
        return relax.build(fused, target=target, relax_pipeline=pipeline)


def extract_tasks(mod, target) -> list:
    """MetaSchedule's tasks (ExtractedTask) of `mod` fused as the build fuses it (`fuse`), so that their keys match
    the final build's."""
    return fused_tasks(mod, target)[1]


def fused_tasks(mod, target) -> tuple:
    """(`fuse(mod, target)`, MetaSchedule's tasks of it): a tune's tasks, and the module its final build starts from
    (`compile_tuned(..., fused=)`)."""
    fused = fuse(mod, target)
    return fused, list(ms.relax_integration.extract_tasks(fused, target))


def untuned_executable(workload: Workload, target):
    """The module built by TVM's default pipeline with no tuning (the baseline of the speedup)."""
    with timing.phase("compile"):
        return tvm.compile(workload.mod, target=target)
