"""The arithmetic a tuned build computes in, `--precision`: what each needs of the CPU and how far its output may
stray from the float32 reference.

    fp32    float32 throughout (the default)
    bf16    matmuls by constant weights in bfloat16 with float32 sums (litecoop.build.bf16, AVX512-BF16's
            vdpbf16ps); everything else float32
    int8    matmuls by constant weights quantized dynamically to int8 with int32 sums (litecoop.build.int8,
            AVX512-VNNI's vpdpbusd); everything else float32
"""

from __future__ import annotations

import importlib
from dataclasses import replace

import tvm

from litecoop.errors import UserError
from litecoop.workload import CORRECTNESS_TOLERANCE, Workload

PRECISIONS = ("fp32", "bf16", "int8")
# /proc/cpuinfo's names of what each precision's code uses
CPU_FLAGS = {"fp32": (), "bf16": ("avx512_bf16",), "int8": ("avx512_vnni",)}
# largest absolute error of the output, per unit of the reference's largest magnitude (x 1 below 1); bf16 keeps 8
# bits of mantissa (relative rounding error 2^-9 per value), and a BERT layer's matmuls sum 768-3072 such products;
# int8 rounds each activation to 1/255 of its row's range (onnxruntime's quantize_dynamic strays 5% on MiniLM)
TOLERANCE = {"fp32": CORRECTNESS_TOLERANCE, "bf16": 5e-2, "int8": 0.1}
_LLVM_FEATURES = {"avx512_bf16": "avx512bf16", "avx512_vnni": "avx512vnni"}


def check_supported(precision: str, cpu_flags: set[str]) -> None:
    """Raise UserError (one line) when `precision` is unknown or a CPU with `cpu_flags` (/proc/cpuinfo's names, e.g.
    {"avx2", "fma"}) lacks what its code uses."""
    if precision not in PRECISIONS:
        raise UserError(f"--precision: expected one of {', '.join(PRECISIONS)}, got '{precision}'")
    missing = [flag for flag in CPU_FLAGS[precision] if flag not in cpu_flags]
    if missing:
        raise UserError(f"--precision {precision} needs a CPU with {', '.join(missing)}; this target has none")


def target_cpu_flags(target) -> set[str]:
    """The CPU_FLAGS names that LLVM enables for `target` (a TVM Target; none for a non-CPU target)."""
    if target.kind.name != "llvm":
        return set()
    from tvm.target import codegen

    names = {flag for flags in CPU_FLAGS.values() for flag in flags}
    return {name for name in names if codegen.target_has_features(_LLVM_FEATURES.get(name, name), target)}


def at_precision(work: Workload, precision: str, target, tolerance: float | None = None) -> Workload:
    """`work` computing in `precision` on `target`, its correctness judged at `tolerance` (None: TOLERANCE of the
    precision). Raises UserError when the target's CPU lacks the precision's instructions or nothing of the model
    can compute in it."""
    check_supported(precision, target_cpu_flags(target))
    tolerance = TOLERANCE[precision] if tolerance is None else tolerance
    if precision == "fp32":
        return replace(work, tolerance=tolerance)
    from litecoop.build import packed_matmul
    from litecoop.build.compiler import INFERENCE_REWRITES

    mod = tvm.transform.Sequential([rewrite() for rewrite in INFERENCE_REWRITES])(work.mod)
    mod, rewritten = packed_matmul.rewrite_const_weight_matmuls(mod, _precision_module(precision).rewrite)
    if not rewritten:
        raise UserError(f"--precision {precision}: {work.name} has no matmul by a constant weight to compute in it")
    return replace(work, mod=mod, precision=precision, tolerance=tolerance)


def _precision_module(precision: str):
    """`litecoop.build.bf16` or `litecoop.build.int8` (imported on demand: each registers its tensor intrinsic)."""
    return importlib.import_module(f"litecoop.build.{precision}")


def design_space(precision: str):
    """The MetaSchedule design space a build in `precision` is searched in: "post-order-apply" (MetaSchedule's
    default) for fp32, else the default with the precision's tensor intrinsic (packed_matmul.design_space)."""
    return "post-order-apply" if precision == "fp32" else _precision_module(precision).design_space()
