"""Graph rewrites of a Relax module before and around fusion: inference rewrites, pads folded into convolutions,
multiplies by one dropped, constants of one repeated value as scalars, attentions as one kernel, convolutions
channels-last on CPUs. Each pass rewrites a copy: a module pass receives its caller's module itself.
"""

from __future__ import annotations

import math

import tvm
from tvm import relax
from tvm.relax.dpl import is_const, is_op, rewrite_call, wildcard
from tvm_ffi import structural_equal

from litecoop.build import fused_attention


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


def _static_shape(expr) -> list[int] | None:
    """The shape of a float32 tensor expression with static dimensions, else None."""
    ty = getattr(expr, "ty", None)
    if not isinstance(ty, relax.TensorType) or ty.dtype != "float32" or ty.shape is None:
        return None
    values = getattr(ty.shape, "values", None)
    if values is None or not all(isinstance(x, tvm.tirx.IntImm) for x in values):
        return None
    return [int(x) for x in values]


def _operand(expr, bindings: dict):
    """The tensor `expr` (a variable or the call bound to it, of static float32 shape (..., R, C)) reads, seen
    through the reshapes, expand_dims and same-size broadcasts that only regroup leading dimensions, the
    permute_dims that swap the last two, and one other permute_dims below them: (that tensor, its
    `fused_attention.Operand`), or None."""
    shape, swapped, axes = _static_shape(expr), False, None
    if shape is None:
        return None
    while isinstance(bound := expr if isinstance(expr, relax.Call) else bindings.get(expr), relax.Call):
        inner = _static_shape(bound.args[0]) if bound.args else None
        if inner is None:
            break
        if bound.op.name in ("relax.reshape", "relax.broadcast_to", "relax.expand_dims") \
                and math.prod(inner) == math.prod(shape) and inner[-2:] == shape[-2:]:
            expr, shape = bound.args[0], inner
        elif bound.op.name == "relax.permute_dims" and bound.attrs.axes is not None:
            expr, shape, permutation = bound.args[0], inner, [int(axis) for axis in bound.attrs.axes]
            if permutation != _swap_last_two(len(inner)):
                axes = permutation
                break
            swapped = not swapped
        else:
            break
    axes = axes or list(range(len(shape)))
    if swapped:
        axes = [axes[axis] for axis in _swap_last_two(len(axes))]
    return expr, fused_attention.Operand(tuple(shape), tuple(axes))


def _swap_last_two(rank: int) -> list[int]:
    return [*range(rank - 2), rank - 1, rank - 2]


def _attention_pattern():
    """matmul -> [views] -> [multiply or divide by a constant] -> [add a bias] -> softmax -> [safe softmax's where]
    -> [views] -> matmul, as torch.export writes `scaled_dot_product_attention` and Hugging Face's attentions."""
    def viewed(pattern):
        broadcast = is_op("relax.broadcast_to")(pattern, wildcard())
        return pattern | is_op("relax.reshape")(pattern, wildcard()) | broadcast | is_op("relax.reshape")(broadcast,
                                                                                                      wildcard())
    parts = {name: wildcard() for name in ("q", "k", "v", "bias", "masked_logits")}
    parts["scale"], parts["inf"], parts["zero"] = is_const(), is_const(), is_const()
    scores = viewed(is_op("relax.matmul")(parts["q"], parts["k"]))
    parts["multiply"] = is_op("relax.multiply")(scores, parts["scale"])
    parts["divide"] = is_op("relax.divide")(scores, parts["scale"])
    scaled = scores | parts["multiply"] | parts["divide"]
    parts["logits"] = scaled | is_op("relax.add")(scaled, parts["bias"])
    parts["softmax"] = is_op("relax.nn.softmax")(parts["logits"])
    masked_rows = is_op("relax.equal")(parts["masked_logits"], parts["inf"])
    for op in ("relax.logical_not", "relax.astype", "relax.max", "relax.astype", "relax.logical_not"):
        masked_rows = is_op(op)(masked_rows)
    parts["safe"] = is_op("relax.where")(masked_rows, parts["zero"], parts["softmax"])
    return is_op("relax.matmul")(viewed(parts["softmax"] | parts["safe"]), parts["v"]), parts


def _constant(expr) -> float | None:
    value = expr.value.numpy() if isinstance(expr, tvm.ir.GenericConst) else None
    return float(value.item()) if value is not None and value.size == 1 else None


@tvm.transform.module_pass(opt_level=0, name="FuseAttention")
def fuse_attention(mod, _ctx):
    """Each float32 attention (`_attention_pattern`) becomes a call of one kernel for its shapes
    (`fused_attention.attention_func`: the scores stay in cache; its design space is its own template). Q, K and V
    are read through the reshapes and broadcasts that only regroup their batch, and K through its transpose. A safe
    softmax's where (a row of -inf logits gives zeros) is the kernel's own semantics; an attention whose softmax is
    not over the keys, whose scale is not a positive constant or whose value depth is not a multiple of 16 stays."""
    pattern, parts = _attention_pattern()
    bindings = {var: value for func in mod.functions.values() if isinstance(func, relax.Function)
                for var, value in relax.analysis.get_var2val(func).items()}
    builder = relax.BlockBuilder(mod)  # it types the kernels' GlobalVars and adds one kernel per shape

    def rewrite(call, matches):
        softmax, logits = matches[parts["softmax"]], matches[parts["logits"]]
        if parts["safe"] in matches and not (matches[parts["masked_logits"]].same_as(logits)
                                             and _constant(matches[parts["inf"]]) == -math.inf
                                             and _constant(matches[parts["zero"]]) == 0.0):
            return call
        scale = _constant(matches[parts["scale"]]) if parts["scale"] in matches else 1.0
        scale = 1.0 / scale if parts["divide"] in matches and scale else scale
        bias = matches.get(parts["bias"])
        operands = [_operand(matches[parts[name]], bindings) for name in "qkv"]
        shapes = [_static_shape(x) for x in (call, logits, *([bias] if bias is not None else []))]
        if (None in operands or None in shapes or scale is None or scale <= 0
                or int(softmax.attrs.axis) not in (-1, len(shapes[1]) - 1)
                or operands[2][1].logical_shape[-1] % fused_attention.LANES):
            return call
        func = fused_attention.attention_func(*(operand for _, operand in operands), shapes[0], scale,
                                              shapes[2] if bias is not None else None, shapes[1][:-2])
        gvar = builder.add_func(func, "fused_attention")
        return relax.call_tir(gvar, [*(tensor for tensor, _ in operands), *([bias] if bias is not None else [])],
                              call.ty)

    for var, func in list(mod.functions.items()):
        if isinstance(func, relax.Function):
            builder.update_func(var, rewrite_call(pattern, rewrite, func))
    return relax.transform.DeadCodeElimination()(builder.get())
