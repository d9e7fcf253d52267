"""A tuned model that ships: one directory with the compiled libraries (weights inside) and a manifest, loaded with
TVM's runtime and NumPy only (no code generation, no records, no LLM stack, no cost model).

    model.tuned/
      manifest.json      inputs (names, shapes, dtypes) per build, target, threads, CPU flags, provenance
      tuned-0.so ...     one Relax VM library per tuned input shape (`Build`)
      any-shape.so       (optional) an untuned build whose varying dimensions are symbolic

A call is dispatched by its inputs' shapes to the build tuned for them, else to the symbolic build.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import threading
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ValidationError

from litecoop.errors import UserError

MANIFEST = "manifest.json"
ARTIFACT_DIR = "tuned"  # the artifact's folder in a tuning run's work dir
FORMAT = 1


class InputSpec(BaseModel):
    """One input of a build: its name, shape (-1: any size) and NumPy dtype name (e.g. "float32", "int64")."""

    name: str
    shape: list[int]
    dtype: str


class Build(BaseModel):
    """One compiled library of the artifact and the inputs it was built and tuned for."""

    library: str
    sha256: str
    inputs: list[InputSpec]

    def key(self) -> tuple:
        return tuple(tuple(spec.shape) for spec in self.inputs)

    def accepts(self, key: tuple) -> bool:
        """Whether inputs of the shapes in `key` (one tuple per input) fit this build (-1 fits any size)."""
        return len(key) == len(self.inputs) and all(
            len(shape) == len(spec.shape) and all(d in (-1, size) for d, size in zip(spec.shape, shape))
            for shape, spec in zip(key, self.inputs))


class Manifest(BaseModel):
    """What `litecoop.load` needs to run an artifact and to refuse a machine it cannot run on. `threads`: the CPU
    threads it was tuned with; `cpu_flags`: the instruction-set extensions its code uses (from the build
    target's features), each of which the loading CPU must list in /proc/cpuinfo; `precision`: what it computes in
    (litecoop.build.precision)."""

    format: int = FORMAT
    workload: str
    target: str
    threads: int
    precision: str = "fp32"
    cpu_flags: list[str] = []
    builds: list[Build]
    records: int = 0
    provenance: dict = {}


# the CPU features tuned code may use, in /proc/cpuinfo's spelling
CPU_FLAGS = ("avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512_vnni", "avx512_bf16", "avx2", "fma", "avx")


def llvm_feature(flag: str) -> str:
    """LLVM's name of the CPU feature /proc/cpuinfo calls `flag` (`avx512_bf16` -> `avx512bf16`)."""
    return {"avx512_vnni": "avx512vnni", "avx512_bf16": "avx512bf16"}.get(flag, flag)


def cpu_flags_of_target(target) -> list[str]:
    """The /proc/cpuinfo flags that code built for `target` (a TVM llvm Target) may use: the CPU_FLAGS that LLVM
    enables for its mcpu and mattr (e.g. `avx512f`, `avx2`, `fma`)."""
    from tvm.target import codegen

    return [flag for flag in CPU_FLAGS if codegen.target_has_features(llvm_feature(flag), target)]


def host_cpu_flags() -> set[str]:
    """The flags of this machine's CPU (/proc/cpuinfo); empty where that file does not exist."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    line = next((line for line in text.splitlines() if line.startswith("flags")), "")
    return set(line.partition(":")[2].split())


def save(directory: Path, manifest: Manifest, executables: list) -> Path:
    """Write an artifact: each executable (relax.VMExecutable, in the order of `manifest.builds`; None for a library
    already in `directory`) exported as its build's library, and the manifest with the libraries' SHA-256.
    Returns `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    builds = []
    for build, executable in zip(manifest.builds, executables, strict=True):
        path = directory / build.library
        if executable is not None:
            executable.export_library(str(path))
        builds.append(build.model_copy(update={"sha256": hashlib.sha256(path.read_bytes()).hexdigest()}))
    manifest = manifest.model_copy(update={"builds": builds})
    (directory / MANIFEST).write_text(manifest.model_dump_json(indent=2) + "\n")
    return directory


def save_executable(directory: Path, executable, workload: str, inputs: list[np.ndarray], target, threads: int,
                    precision: str = "fp32", records: int = 0, provenance: dict | None = None) -> Path:
    """Save one compiled build (a relax.VMExecutable for `target`, a TVM Target) of `workload` taking `inputs` (their
    shapes and dtypes) and computing in `precision` as an artifact in `directory`; returns it."""
    from litecoop.targets import describe

    specs = [InputSpec(name=f"input{i}", shape=list(x.shape), dtype=str(x.dtype)) for i, x in enumerate(inputs)]
    manifest = Manifest(workload=workload, target=describe(target), threads=threads, precision=precision,
                        cpu_flags=cpu_flags_of_target(target) if target.kind.name == "llvm" else [],
                        builds=[Build(library="tuned-0.so", sha256="", inputs=specs)], records=records,
                        provenance=provenance or {})
    return save(directory, manifest, [executable])


def combine(directory: Path, parts: list[Path], symbolic=None) -> Path:
    """One artifact in `directory` holding the single-build artifacts `parts` (their libraries copied, in order)
    and, with `symbolic` = (relax.VMExecutable, its InputSpecs with -1 for free dimensions), a build for any other
    shape. Its manifest is the first part's, with every build and the records of all. Returns `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    manifests = [read_manifest(part) for part in parts]
    builds = []
    for i, (part, manifest) in enumerate(zip(parts, manifests)):
        (build,) = manifest.builds
        shutil.copyfile(part / build.library, directory / f"tuned-{i}.so")
        builds.append(build.model_copy(update={"library": f"tuned-{i}.so"}))
    executables = [None] * len(builds)
    if symbolic is not None:
        builds.append(Build(library="any-shape.so", sha256="", inputs=symbolic[1]))
        executables.append(symbolic[0])
    combined = manifests[0].model_copy(update={"builds": builds, "records": sum(m.records for m in manifests)})
    return save(directory, combined, executables)


def read_manifest(directory: Path) -> Manifest:
    """The manifest of the artifact in `directory`. Raises UserError when it is missing or malformed."""
    path = Path(directory) / MANIFEST
    if not path.is_file():
        raise UserError(f"{directory}: not a tuned model ({MANIFEST} is missing)")
    try:
        manifest = Manifest.model_validate_json(path.read_text())
    except ValidationError as err:
        raise UserError(f"{path}: malformed manifest ({err.errors()[0]['msg']})") from None
    if manifest.format != FORMAT:
        raise UserError(f"{path}: manifest format {manifest.format}, this litecoop reads {FORMAT}")
    return manifest


class Tuned:
    """A tuned model, callable like the function it was tuned from: `tuned(*inputs)` takes NumPy arrays (or
    torch CPU tensors) of one of the tuned input shapes (or of any shape, where the artifact has a symbolic build)
    and returns the first output as a NumPy array. `reports`: the TuneReport of each tuned shape, when tuned in
    this process (`report`: the first). Inputs
    are passed to TVM without a copy (DLPack) when 64-byte aligned, as onnxruntime wraps NumPy arrays, and copied
    otherwise; the output is copied out.
    Safe to call from several threads: each thread gets its own VM (`threading.local`).

    Raises UserError for inputs of the wrong count, dtype, rank or shape (naming which)."""

    def __init__(self, directory: Path, manifest: Manifest, modules: list, reports: list | None = None):
        self.directory, self.manifest, self.reports = Path(directory), manifest, reports or []
        self._modules = {build.key(): module for build, module in zip(manifest.builds, modules)}
        self._specs = {build.key(): build.inputs for build in manifest.builds}
        self._local = threading.local()

    def _vm(self, key):
        import tvm
        from tvm import relax

        vms = self._local.__dict__.setdefault("vms", {})
        if key not in vms:
            vms[key] = relax.VirtualMachine(self._modules[key], tvm.cpu())
        return vms[key]

    def _check(self, inputs: tuple) -> tuple:
        first = self.manifest.builds[0].inputs
        if len(inputs) != len(first):
            raise UserError(f"expected {len(first)} inputs ({', '.join(s.name for s in first)}), got {len(inputs)}")
        arrays = tuple(np.ascontiguousarray(x.detach().numpy() if hasattr(x, "detach") else x) for x in inputs)
        for spec, array in zip(first, arrays):
            if str(array.dtype) != spec.dtype:
                raise UserError(f"input '{spec.name}': dtype {array.dtype}, expected {spec.dtype}")
            if array.ndim != len(spec.shape):
                raise UserError(f"input '{spec.name}': rank {array.ndim}, expected {len(spec.shape)}")
        key = tuple(tuple(a.shape) for a in arrays)
        if key in self._modules:
            return key, arrays
        build = next((build for build in self.manifest.builds if build.accepts(key)), None)
        if build is None:
            tuned = "; ".join(", ".join(f"{s.name}{tuple(s.shape)}" for s in specs) for specs in self._specs.values())
            raise UserError(f"input shapes {list(key)} are not among the tuned shapes ({tuned}) and this artifact "
                            "has no build for other shapes")
        return build.key(), arrays

    def __call__(self, *inputs) -> np.ndarray:
        import tvm

        key, arrays = self._check(inputs)
        # DLPack hands TVM the array itself; TVM takes only 64-byte-aligned data that way, others are copied
        out = self._vm(key)["main"](*(tvm.runtime.from_dlpack(a) if a.ctypes.data % 64 == 0 else tvm.runtime.tensor(a)
                                      for a in arrays))
        while not hasattr(out, "numpy"):
            out = out[0]
        return out.numpy()

    def save(self, directory: Path) -> Path:
        """Copy this artifact to `directory` (created); returns it."""
        directory = Path(directory)
        if directory.resolve() != self.directory.resolve():
            shutil.copytree(self.directory, directory, dirs_exist_ok=True)
        return directory

    @property
    def report(self):
        """The TuneReport of the first tuned shape (None for a loaded artifact)."""
        return self.reports[0] if self.reports else None

    @property
    def input_specs(self) -> list[list[InputSpec]]:
        """The inputs of every build, in the manifest's order."""
        return [build.inputs for build in self.manifest.builds]


def load(directory: str | os.PathLike) -> Tuned:
    """Load an artifact written by `litecoop.tune` / `Tuned.save`. Sets TVM_NUM_THREADS to the thread count it was
    tuned with unless set already (it must be, before TVM's first parallel call). Raises UserError (one line)
    for a missing or corrupted file, or a CPU that lacks an instruction-set extension the code uses."""
    directory = Path(directory)
    manifest = read_manifest(directory)
    missing = [flag for flag in manifest.cpu_flags if flag not in host_cpu_flags()]
    if missing:
        raise UserError(f"{directory}: built for a CPU with {', '.join(missing)}, which this CPU lacks")
    os.environ.setdefault("TVM_NUM_THREADS", str(manifest.threads))
    import tvm

    modules = []
    for build in manifest.builds:
        path = directory / build.library
        if not path.is_file():
            raise UserError(f"{directory}: library {build.library} is missing")
        if hashlib.sha256(path.read_bytes()).hexdigest() != build.sha256:
            raise UserError(f"{directory}: library {build.library} is corrupted (its SHA-256 differs from the manifest's)")
        modules.append(tvm.runtime.load_module(str(path)))
    return Tuned(directory, manifest, modules)
