"""Where a result comes from: the command, the commit, the presets, the machine and the library versions,
recorded in every tune report and bench.json so that a number can be traced and reproduced."""

from __future__ import annotations

import os
import platform
import shlex
import subprocess
import sys
from importlib import metadata
from pathlib import Path

LIBRARIES = ("apache-tvm", "apache-tvm-ffi", "llama-cpp-python", "torch", "onnxruntime", "xgboost")


def commit() -> str:
    """The checkout's commit (with '+dirty' for uncommitted changes), or 'unknown' outside a git checkout."""
    root = Path(__file__).resolve().parents[2]
    try:
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


def _cpu_model() -> str:
    """The CPU's model name and its widest vector extension, e.g. "AMD EPYC (AVX-512)": machines sold under one
    name differ in it, and every timing does with it."""
    from litecoop.artifact import host_cpu_flags

    flags = host_cpu_flags()
    vectors = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "no AVX2"
    try:
        name = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                    if line.startswith("model name"))
    except (OSError, StopIteration):
        name = platform.processor() or platform.machine()
    return f"{name} ({vectors})"


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def provenance(**presets: str) -> dict:
    """{command, commit, presets, machine, versions} of this process; `presets` names the presets used
    (e.g. search_preset="default")."""
    program = "litecoop" if Path(sys.argv[0]).match("litecoop/cli.py") else Path(sys.argv[0]).name  # python -m
    return {"command": shlex.join([program, *sys.argv[1:]]), "commit": commit(), "presets": presets,
            "machine": f"{_cpu_model()}, {os.cpu_count()} cores, Python {platform.python_version()}",
            "versions": {name: _version(name) for name in LIBRARIES}}
