"""The tensor intrinsics a target can use, registered without importing every vendor's (13-90 s here)."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import platform
import sys

# The submodules of `tvm.s_tir.tensor_intrin` whose intrinsics a target kind's design spaces can use; for a CPU, its
# architecture's (CPU_INTRINSICS, by the target's triple, else this machine's).
TENSOR_INTRINSICS = {"cuda": ("cuda",), "rocm": ("rocm",), "hexagon": ("hexagon",), "metal": ("metal",)}
CPU_INTRINSICS = {"aarch64": "arm_cpu", "arm": "arm_cpu", "riscv": "riscv_cpu", "x86": "x86", "i686": "x86",
                  "amd64": "x86"}


def intrinsic_modules(target) -> tuple[str, ...]:
    """The submodules of `tvm.s_tir.tensor_intrin` that `target`'s design spaces can use (an x86 CPU: "x86")."""
    if target.kind.name != "llvm":
        return TENSOR_INTRINSICS.get(target.kind.name, ())
    triple = str(target.attrs.get("mtriple", "") or platform.machine()).lower()
    return tuple({module for arch, module in CPU_INTRINSICS.items() if triple.startswith(arch)})


def import_tensor_intrinsics(target) -> None:
    """Register the tensor intrinsics that `target`'s (a tvm Target's) design spaces can use, and no others.

    Every MetaSchedule TuneContext imports the package `tvm.s_tir.tensor_intrin`, whose `__init__` imports every
    vendor's intrinsics: ~100 functions written in TVMScript, parsed at import, 13-21 s here, 9 s of it CUDA's.
    The package is put in `sys.modules` without running its `__init__` (so TuneContext's import finds it), and
    only `intrinsic_modules(target)` are imported (x86's: 0.4 s). `@T.prim_func` also calls
    `inspect.stack()`, whose source lines of every frame scan all of sys.modules each time; they only serve to
    spot prim_funcs written inside classes, and no intrinsic is, so frames are taken without them meanwhile."""
    package = "tvm.s_tir.tensor_intrin"
    if package not in sys.modules:
        sys.modules[package] = importlib.util.module_from_spec(importlib.util.find_spec(package))
    full_stack = inspect.stack
    inspect.stack = lambda context=1: full_stack(0)
    try:
        for name in intrinsic_modules(target):
            importlib.import_module(f"{package}.{name}")
    finally:
        inspect.stack = full_stack
