"""A process registers the tensor intrinsics of its target's own architecture and no other vendor's: importing them
all parses ~100 TVMScript functions (up to 90 s in a process that has imported torch)."""

import subprocess
import sys

import tvm

from litecoop.build.intrinsics import intrinsic_modules

REGISTER = """
import sys, tvm
from litecoop.build.intrinsics import import_tensor_intrinsics
import_tensor_intrinsics(tvm.target.Target({"kind": "llvm", "mtriple": "x86_64-linux-gnu"}))
from tvm.s_tir import TensorIntrin
TensorIntrin.get("dot_16x4_vnni")  # raises when x86's intrinsics are not registered
print(sorted(name for name in sys.modules if name.startswith("tvm.s_tir.tensor_intrin.")))
"""


def test_an_x86_target_registers_x86s_intrinsics_and_no_other_vendors():
    result = subprocess.run([sys.executable, "-c", REGISTER], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "['tvm.s_tir.tensor_intrin.x86']"


def test_each_target_gets_its_architectures_intrinsics():
    assert intrinsic_modules(tvm.target.Target({"kind": "llvm", "mtriple": "aarch64-linux-gnu"})) == ("arm_cpu",)
    assert intrinsic_modules(tvm.target.Target({"kind": "llvm", "mtriple": "riscv64-linux-gnu"})) == ("riscv_cpu",)
    assert intrinsic_modules(tvm.target.Target({"kind": "cuda"})) == ("cuda",)
