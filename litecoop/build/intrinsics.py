"""The tensor intrinsics a target can use, registered without importing every vendor's (13-90 s here)."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import sys

# The submodules of `tvm.s_tir.tensor_intrin` whose intrinsics a target kind's design spaces can use.
TENSOR_INTRINSICS = {"llvm": ("x86", "arm_cpu", "riscv_cpu"), "cuda": ("cuda",), "rocm": ("rocm",),
                     "hexagon": ("hexagon",), "metal": ("metal",)}


def import_tensor_intrinsics(target) -> None:
    """Register the tensor intrinsics that `target`'s (a tvm Target's) design spaces can use, and no others.

    Every MetaSchedule TuneContext imports the package `tvm.s_tir.tensor_intrin`, whose `__init__` imports every
    vendor's intrinsics: ~100 functions written in TVMScript, parsed at import, 13-21 s here, 9 s of it CUDA's.
    The package is put in `sys.modules` without running its `__init__` (so TuneContext's import finds it), and
    only `TENSOR_INTRINSICS[target kind]` are imported: 1.2 s for llvm. `@T.prim_func` also calls
    `inspect.stack()`, whose source lines of every frame scan all of sys.modules each time; they only serve to
    spot prim_funcs written inside classes, and no intrinsic is, so frames are taken without them meanwhile."""
    package = "tvm.s_tir.tensor_intrin"
    if package not in sys.modules:
        sys.modules[package] = importlib.util.module_from_spec(importlib.util.find_spec(package))
    full_stack = inspect.stack
    inspect.stack = lambda context=1: full_stack(0)
    try:
        for name in TENSOR_INTRINSICS.get(target.kind.name, ()):
            importlib.import_module(f"{package}.{name}")
    finally:
        inspect.stack = full_stack
