"""The arithmetic a tuned build computes in, `--precision`: what each needs of the CPU and how far its output may
stray from the float32 reference.

    fp32    float32 throughout (the default)
    bf16    matmuls by constant weights in bfloat16 with float32 sums (litecoop.build.bf16, AVX512-BF16's
            vdpbf16ps); everything else float32
    int8    matmuls by constant weights quantized dynamically to int8 with int32 sums (litecoop.build.int8,
            AVX512-VNNI's vpdpbusd); everything else float32
    fp16    (CUDA targets with tensor cores) matmuls and convolutions with float16 operands and float32 sums
            (TVM's ToMixedPrecision), tiled around tensor-core instructions by MetaSchedule's CUDA rules; inputs
            and outputs stay float32
"""

from __future__ import annotations

import importlib
from dataclasses import replace

import tvm
from tvm import relax

from litecoop.artifact import llvm_feature
from litecoop.errors import UserError
from litecoop.workload import CORRECTNESS_TOLERANCE, Workload

PRECISIONS = ("fp32", "bf16", "int8", "fp16")
# what each precision's code needs of the target: /proc/cpuinfo's names of CPU features, or tensor cores on a GPU
REQUIRES = {"fp32": (), "bf16": ("avx512_bf16",), "int8": ("avx512_vnni",), "fp16": ("tensor_cores",)}
TENSOR_CORES_SINCE = 70  # the first CUDA compute capability with tensor cores (sm_70, Volta)
# largest absolute error of the output, per unit of the reference's largest magnitude (x 1 below 1); bf16 keeps 8
# bits of mantissa (relative rounding error 2^-9 per value), and a BERT layer's matmuls sum 768-3072 such products;
# int8 rounds each activation to 1/255 of its row's range (onnxruntime's quantize_dynamic strays 5% on MiniLM); fp16
# keeps 11 bits (2^-12 per value): the suite's kernels stray 4e-4 to 7e-4 of their largest output
TOLERANCE = {"fp32": CORRECTNESS_TOLERANCE, "bf16": 5e-2, "int8": 0.1, "fp16": 1e-2}


def check_supported(precision: str, features: set[str]) -> None:
    """Raise UserError (one line) when `precision` is unknown or a target with `features` (/proc/cpuinfo's names,
    e.g. {"avx2", "fma"}, or {"tensor_cores"} for a GPU that has them) lacks what its code uses."""
    if precision not in PRECISIONS:
        raise UserError(f"--precision: expected one of {', '.join(PRECISIONS)}, got '{precision}'")
    missing = [feature for feature in REQUIRES[precision] if feature not in features]
    if missing == ["tensor_cores"]:
        raise UserError(f"--precision {precision} needs a CUDA target with tensor cores (sm_{TENSOR_CORES_SINCE} "
                        "or newer); this target has none")
    if missing:
        raise UserError(f"--precision {precision} needs a CPU with {', '.join(missing)}; this target has none")


def target_features(target) -> set[str]:
    """The REQUIRES names that `target` (a TVM Target) offers: the CPU features LLVM enables for an llvm target,
    "tensor_cores" for a CUDA target of compute capability 7.0 or newer."""
    if target.kind.name == "cuda":
        arch = str(target.attrs.get("arch", "sm_0")).removeprefix("sm_")
        return {"tensor_cores"} if int(arch.rstrip("a") or 0) >= TENSOR_CORES_SINCE else set()
    if target.kind.name != "llvm":
        return set()
    from tvm.target import codegen

    names = {name for names in REQUIRES.values() for name in names} - {"tensor_cores"}
    return {name for name in names if codegen.target_has_features(llvm_feature(name), target)}


def at_precision(work: Workload, precision: str, target, tolerance: float | None = None) -> Workload:
    """`work` computing in `precision` on `target`, its correctness judged at `tolerance` (None: TOLERANCE of the
    precision). Raises UserError when the target lacks the precision's instructions (a CPU feature, tensor cores) or
    nothing of the model can compute in it."""
    check_supported(precision, target_features(target))
    tolerance = TOLERANCE[precision] if tolerance is None else tolerance
    if precision == "fp32":
        return replace(work, tolerance=tolerance)
    if precision == "fp16":
        mod = relax.transform.ToMixedPrecision(out_dtype="float32")(work.mod)
        return replace(work, mod=mod, precision=precision, tolerance=tolerance)
    from litecoop.build import packed_matmul
    from litecoop.build.graph_rewrites import INFERENCE_REWRITES

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
    default: on CUDA its rules tile float16 matmuls and convolutions around tensor-core instructions) for fp32 and
    fp16, else the default with the precision's CPU tensor intrinsic (packed_matmul.design_space)."""
    if precision in ("fp32", "fp16"):
        return "post-order-apply"
    return _precision_module(precision).design_space()
