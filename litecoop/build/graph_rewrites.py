"""Graph rewrites of a Relax module before and around fusion: inference rewrites, pads folded into convolutions,
multiplies by one dropped, constants of one repeated value as scalars, convolutions channels-last on CPUs.
"""

from __future__ import annotations

import tvm
from tvm import relax
from tvm.relax.dpl import is_op, rewrite_call, wildcard
from tvm_ffi import structural_equal


# A batch norm right after a convolution becomes a scale of its weights and a bias add, which FuseOps then fuses into
# the convolution with the activation after it (as onnxruntime and OpenVINO do); FoldConstant computes the scaled
# weights (ConvertLayout crashes on the unfolded arithmetic); any other batch norm is decomposed into elementwise
# arithmetic, and CanonicalizeBindings drops the tuple it returned, which would stop fusion. ResNet-50: 43 tasks -> 28;
# MobileNetV2: 76 -> 61.
INFERENCE_REWRITES = (relax.transform.FoldBatchnormToConv2D, relax.transform.FoldConstant,
                      relax.transform.DecomposeOpsForInference, relax.transform.CanonicalizeBindings)


CHANNELS_LAST = {"relax.nn.conv1d": ["NWC", "OWI"], "relax.nn.conv2d": ["NHWC", "OHWI"]}


def _convolution_count(mod) -> int:
    """How many 1-D and 2-D convolutions the Relax functions of `mod` call."""
    ops, calls = [tvm.ir.Op.get(name) for name in CHANNELS_LAST], []
    for func in mod.functions.values():
        if isinstance(func, relax.Function):
            relax.analysis.post_order_visit(func, lambda expr: calls.append(expr) if (
                isinstance(expr, relax.Call) and any(expr.op.same_as(op) for op in ops)) else None)
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
    eliminated. The module pass receives the caller's module itself, so the rewrite goes into a clone."""
    mod = mod.clone()
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


@tvm.transform.module_pass(opt_level=0, name="SplatConstantsAsScalars")
def splat_constants_as_scalars(mod, _ctx):
    """A `where` branch that is a constant of one repeated value becomes that value as a scalar (broadcast, exact).
    torch.export decomposes `scaled_dot_product_attention`'s safe softmax (a fully masked row gives zeros, not NaN)
    into `where(row masked, full_like(softmax, 0), softmax)`, and FoldConstant makes the zeros a constant as large as
    the scores, which the softmax kernel then read at every call: Whisper-tiny's encoder carried 54 MB of zeros per
    layer (its fused module 248.8 MB of constants, 32.8 MB of them weights)."""
    pattern = is_op("relax.where")(wildcard(), wildcard(), wildcard())

    def rewrite(call, _matches):
        args = list(call.args)
        for i in (1, 2):
            value = args[i].value.numpy() if isinstance(args[i], tvm.ir.GenericConst) else None
            if value is not None and value.size > 1 and (value == value.flat[0]).all():
                args[i] = relax.const(value.flat[0].item(), str(value.dtype))
        return call if args == list(call.args) else relax.op.where(*args)

    return _rewrite_calls(mod, pattern, rewrite)


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
    """Convolutions in NHWC with OHWI weights and 1-D ones in NWC with OWI weights (TVM's ConvertLayout; a layout
    transform where the model's NCHW or NCW meets them), where a model has two convolutions or more (a lone
    convolution pays two transposes; ConvertLayout also ran out of memory on a BERT), depthwise and grouped ones
    included. Clips (ReLU6) become min/max first, so that the layouts propagate through them. On CPUs MetaSchedule
    then vectorizes over the contiguous channels. At a 3-minute search, each timed with its peers: ResNet-50 ran at
    2.14x the best peer's latency in NHWC (261 trials) against 4.42x in NCHW (152 trials, on an earlier machine of
    the same kind). With its pads folded into the convolutions (`fold_pads_into_convolutions`), MobileNetV2's NHWC
    build ran 1.43x faster than its NCHW build and ConvNeXt-T's 1.16x (3-minute searches; the builds timed
    alternately in one process, results/channels-last). Whisper's encoder stem in NWC is time-major already: the
    transpose after it, with the positional embedding's add, joins the second convolution's kernel."""
    if _convolution_count(mod) < 2:
        return mod
    mod = mod.clone()
    for var, func in list(mod.functions.items()):
        if isinstance(func, relax.Function):
            mod[var] = _clips_as_min_max(func)
    return relax.transform.ConvertLayout(CHANNELS_LAST)(mod)


