"""From a Relax module to a compiled library, as the final build and task extraction share it.

Graph rewrites (`graph_rewrites`: batch norms folded into the convolutions before them; on CPUs, splat constants as
scalars, each attention as one kernel (`fused_attention`) and dense convolutions in NHWC) -> fusion (on CPUs: fast
float32 math, the layout copies of attentions left unfused and the reshapes around linear layers fused into the
matmuls, weights marked layout-free, matmuls of odd extents padded to whole vectors) -> MetaSchedule task extraction; and from a tuning database: schedules applied, weights prepacked at
build time (TVM's `cpu_weight_prepack` flow)."""

from __future__ import annotations

import logging

import tvm
from tvm import relax
from tvm.relax.backend.cpu_generic import pipeline as cpu_pipeline
from tvm.s_tir import meta_schedule as ms

from litecoop.build.fast_math import LEGALIZE
from litecoop.build.fusion_patterns import (fuse_layouts_into_activation_matmuls, keep_pads_apart,
                                             reshapes_as_elementwise)
from litecoop.build.graph_rewrites import (INFERENCE_REWRITES, channels_last, drop_multiplies_by_one,
                                            fold_pads_into_convolutions, fuse_attention, splat_constants_as_scalars)
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

def _fusion_passes(target) -> list:
    cpu = _cpu_pipeline(target)
    passes = [*(rewrite() for rewrite in INFERENCE_REWRITES),
              *([drop_multiplies_by_one, splat_constants_as_scalars, fuse_attention, fold_pads_into_convolutions,
                 channels_last] if cpu else []),
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
