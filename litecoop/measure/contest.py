"""The final timing of a tuned build against its CPU peers, one implementation for tune, bench and check.

`timing.time_contenders` times the contenders (`call(*inputs)`: NumPy in, NumPy out, one Python call per
inference) in one alternated series, the order shuffled each round. `run_fresh` runs a whole contest in a new process, as
`python -m litecoop.measure.contest REQUEST.json RESULT.json`: it builds every peer (`peers.cpu_peers`) and the
tuned build (`litecoop.artifact.load`), checks each one's output against a reference on fresh random inputs,
then times all that ran on the given inputs. A fresh process keeps the tuning process's state (thread pools,
caches, memory) out of the timings and gives every peer the thread count the user asked for.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np
from pydantic import BaseModel, field_validator

from litecoop.errors import UserError
from litecoop.measure.peers import ALL
from litecoop.measure.timing import time_contenders

CALIBRATION_SEEDS = range(100, 116)  # 16 random samples for the peers that calibrate (openvino-int8)
REFERENCES = ("torch", "onnxruntime")  # the reference: the first of these among the contenders, else set up for it


def aligned(x: np.ndarray, alignment: int = 64) -> np.ndarray:
    """A C-contiguous copy of `x` whose data starts on an `alignment`-byte boundary, as TVM's own arrays do (TVM
    takes a NumPy array without a copy only so; NumPy and .npz files give no such guarantee)."""
    buffer = np.empty(x.nbytes + alignment, dtype=np.uint8)
    offset = -buffer.ctypes.data % alignment
    out = buffer[offset:offset + x.nbytes].view(x.dtype).reshape(x.shape)
    out[...] = x
    return out


def fresh_inputs(inputs: list[np.ndarray], seed: int = 1) -> list[np.ndarray]:
    """New random arrays of the inputs' shapes and dtypes: floats standard normal scaled like each original
    (its mean and standard deviation), integers and booleans uniform within the original's [min, max]; each
    64-byte aligned (`aligned`)."""
    rng = np.random.default_rng(seed)
    fresh = []
    for x in inputs:
        if np.issubdtype(x.dtype, np.floating):
            std = float(np.std(x)) if x.size else 1.0
            mean = float(np.mean(x)) if x.size else 0.0
            fresh.append((rng.standard_normal(x.shape) * (std or 1.0) + mean).astype(x.dtype))
        elif x.dtype == np.bool_ or np.issubdtype(x.dtype, np.integer):
            low, high = (int(x.min()), int(x.max())) if x.size else (0, 0)
            fresh.append(rng.integers(low, high, size=x.shape, endpoint=True).astype(x.dtype))
        else:
            fresh.append(x.copy())
    return [aligned(x) for x in fresh]


class ContestRequest(BaseModel):
    """A contest, written as JSON for the fresh process. `tuned`: a directory saved by litecoop (None: peers
    alone); `builds`: more saved directories timed beside it, by name (other strategies' builds, a baseline);
    `model_pickle`: a cloudpickle file of the torch module (None: no torch peers); `onnx`: the model as
    ONNX (None: the module is exported); `inputs`: an .npz of the inputs in order (arr_0, arr_1, ...);
    `model_type`: the transformer type for onnxruntime-fused (bert, gpt2, vit); `threads`: every contender's CPU
    threads; `repeat`: samples per contender; `peers`: which of `peers.ALL` to run."""

    tuned: str | None = None
    builds: dict[str, str] = {}
    model_pickle: str | None = None
    onnx: str | None = None
    inputs: str
    model_type: str | None = None
    threads: int
    repeat: int = 10
    peers: list[str] = list(ALL)

    @field_validator("peers")
    @classmethod
    def _known(cls, names: list[str]) -> list[str]:
        unknown = [name for name in names if name not in ALL]
        if unknown:
            raise ValueError(f"unknown peers {unknown}; known: {', '.join(ALL)}")
        return names

    @field_validator("threads", "repeat")
    @classmethod
    def _positive(cls, value: int) -> int:
        if value < 1:
            raise ValueError("must be at least 1")
        return value


class Contender(BaseModel):
    """One contender's outcome (a peer or a tuned build). `precision`: what it computes in ("fp32", "bf16", ...);
    `latency_s` (median) and `samples_s`: seconds per inference (None, empty: it did not run); `setup_s`: seconds to
    set it up (load, export, session, compilation); `max_abs_error`, `mean_abs_error`, `cosine`: its output against
    the reference contender's on fresh random inputs (cosine of the flattened two); `reason`: why it did not run;
    `note`: where its setup departed from the usual one (a fallback it took), else None."""

    model_config = {"ser_json_inf_nan": "constants"}

    name: str
    precision: str = "fp32"
    latency_s: float | None = None
    samples_s: list[float] = []
    setup_s: float = 0.0
    max_abs_error: float | None = None
    mean_abs_error: float | None = None
    cosine: float | None = None
    reason: str | None = None
    note: str | None = None


class ContestResult(BaseModel):
    """Every contender (the tuned build first, then the peers in the request's order), which one gave the
    reference output, the threads all ran on, and the versions of the runtimes."""

    model_config = {"ser_json_inf_nan": "constants"}

    contenders: list[Contender]
    reference: str
    threads: int
    versions: dict[str, str] = {}

    def by_name(self) -> dict[str, Contender]:
        return {contender.name: contender for contender in self.contenders}


def _load_inputs(path: str) -> list[np.ndarray]:
    """The arrays of an .npz in order (arr_0, arr_1, ...), each 64-byte aligned (`aligned`). Raises UserError
    for a missing or unreadable file."""
    if not Path(path).is_file():
        raise UserError(f"inputs file {path} does not exist")
    try:
        with np.load(path, allow_pickle=False) as npz:
            keys = sorted(npz.files, key=lambda key: int(key.removeprefix("arr_")) if key[4:].isdigit() else 1 << 30)
            return [aligned(npz[key]) for key in keys]
    except (OSError, ValueError) as err:
        raise UserError(f"inputs file {path} is not a readable .npz ({err})") from None


def _versions() -> dict[str, str]:
    from importlib import metadata

    versions = {}
    for package in ("onnxruntime", "openvino", "torch", "apache-tvm", "numpy"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            pass
    return versions


def contest(request: ContestRequest) -> ContestResult:
    """Run the contest `request` asks for in this process (the fresh process's body): build the tuned build and
    the peers, check every one on fresh inputs against the reference, time those that ran. Raises UserError
    for a missing file."""
    from litecoop.measure import peers as peers_module

    inputs = _load_inputs(request.inputs)
    module = None
    if request.model_pickle is not None:
        if not Path(request.model_pickle).is_file():
            raise UserError(f"model file {request.model_pickle} does not exist")
        import cloudpickle

        with open(request.model_pickle, "rb") as file:
            module = cloudpickle.load(file)
    if request.onnx is not None and not Path(request.onnx).is_file():
        raise UserError(f"ONNX file {request.onnx} does not exist")
    if module is None and request.onnx is None:
        raise UserError("a contest needs the model as a pickled torch module or as ONNX")

    contenders: list[Contender] = []
    calls: dict[str, Callable[..., np.ndarray]] = {}
    precision = peers_module.precision_of(module, inputs)
    for name, directory in (({"tuned": request.tuned} if request.tuned else {}) | request.builds).items():
        start = time.perf_counter()
        try:
            from litecoop import artifact

            calls[name] = artifact.load(directory)
            calls[name](*inputs)
            contenders.append(Contender(name=name, precision=artifact.read_manifest(Path(directory)).precision,
                                        setup_s=time.perf_counter() - start))
        except Exception as err:  # noqa: BLE001 - a build that cannot run is reported, like a peer
            calls.pop(name, None)
            contenders.append(Contender(name=name, precision=precision, setup_s=time.perf_counter() - start,
                                        reason=peers_module.one_line(err)))
    for peer in peers_module.cpu_peers(request.threads, inputs, module=module,
                                       onnx_path=Path(request.onnx) if request.onnx else None,
                                       model_type=request.model_type, names=request.peers,
                                       calibration=[fresh_inputs(inputs, seed) for seed in CALIBRATION_SEEDS]
                                       if "openvino-int8" in request.peers else None):
        contenders.append(Contender(name=peer.name, precision=peer.precision, setup_s=peer.setup_s, reason=peer.reason,
                                    note=peer.note))
        if peer.call is not None:
            calls[peer.name] = peer.call

    fresh = fresh_inputs(inputs)
    outputs = {}
    for contender in contenders:
        if contender.name in calls:
            try:
                outputs[contender.name] = np.asarray(calls[contender.name](*fresh))
            except Exception as err:  # noqa: BLE001
                contender.reason = f"failed on fresh inputs: {peers_module.one_line(err)}"[:peers_module.REASON_CHARS]
                del calls[contender.name]
    reference, expected = _reference_output(outputs, request, module, inputs, fresh) if outputs else ("", None)
    for contender in contenders:
        if contender.name not in outputs:
            continue
        out = outputs[contender.name]
        if out.shape != expected.shape:
            contender.reason = f"output shape {out.shape} differs from {reference}'s {expected.shape}"
            del calls[contender.name]
            continue
        out, want = out.astype(np.float64).ravel(), expected.astype(np.float64).ravel()
        difference = np.abs(out - want)
        contender.max_abs_error = float(np.max(difference)) if difference.size else 0.0
        contender.mean_abs_error = float(np.mean(difference)) if difference.size else 0.0
        norms = float(np.linalg.norm(out) * np.linalg.norm(want))
        contender.cosine = float(out @ want / norms) if norms > 0 else None
        if np.isnan(difference).any():
            contender.max_abs_error = contender.mean_abs_error = float("inf")

    samples = time_contenders(calls, inputs, repeat=request.repeat) if calls else {}
    for contender in contenders:
        if contender.name in samples:
            contender.samples_s = samples[contender.name]
            contender.latency_s = float(np.median(contender.samples_s))
    return ContestResult(contenders=contenders, reference=reference, threads=request.threads, versions=_versions())


def _reference_output(outputs: dict[str, np.ndarray], request: ContestRequest, module, inputs: list[np.ndarray],
                      fresh: list[np.ndarray]) -> tuple[str, np.ndarray]:
    """The reference's name and output on `fresh`: the first of REFERENCES among the contenders' `outputs`, else that
    runtime set up for the check alone (torch for a torch module, else onnxruntime), else the first contender."""
    from litecoop.measure import peers as peers_module

    if found := next((name for name in REFERENCES if name in outputs), None):
        return found, outputs[found]
    name = "torch" if module is not None else "onnxruntime"
    peer = peers_module.cpu_peers(request.threads, inputs, module=module,
                                  onnx_path=Path(request.onnx) if request.onnx else None, names=[name])[0]
    return (name, np.asarray(peer.call(*fresh))) if peer.call is not None else next(iter(outputs.items()))


def _last_error_line(stderr: str) -> str:
    """The child's last error line: the last line of its traceback, or of what it wrote."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    return lines[-1] if lines else "no error message"


def run_fresh(request: ContestRequest, work_dir: Path, timeout_s: float = 3600.0) -> ContestResult:
    """Run the contest `request` in a new Python process (`python -m litecoop.measure.contest`) on
    `request.threads` threads (TVM_NUM_THREADS and OMP_NUM_THREADS set so) with this process's import path (so
    the pickled module's classes import); the request and result are JSON files in `work_dir` (created).
    Returns the result. Raises UserError (one line) when the process fails, with its last error line, or runs
    past `timeout_s` seconds."""
    work_dir = Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    request_path, result_path = work_dir / "contest-request.json", work_dir / "contest-result.json"
    request_path.write_text(request.model_dump_json(indent=2) + "\n")
    result_path.unlink(missing_ok=True)
    path = [entry or os.getcwd() for entry in sys.path]
    env = {**os.environ, "TVM_NUM_THREADS": str(request.threads), "OMP_NUM_THREADS": str(request.threads),
           "PYTHONPATH": os.pathsep.join(dict.fromkeys(path))}
    try:
        child = subprocess.run([sys.executable, "-m", "litecoop.measure.contest", str(request_path), str(result_path)],
                               capture_output=True, text=True, timeout=timeout_s, env=env)
    except subprocess.TimeoutExpired:
        raise UserError(f"the contest process ran past {timeout_s:.0f} s") from None
    if child.returncode != 0 or not result_path.is_file():
        line = _last_error_line(child.stderr).removeprefix("error: ")
        raise UserError(f"the contest process failed (exit code {child.returncode}): {line}"[:500])
    return ContestResult.model_validate_json(result_path.read_text())


def main(argv: list[str] | None = None) -> int:
    """`python -m litecoop.measure.contest REQUEST.json RESULT.json`: run the request, write the result. A
    UserError exits with code 2 and its message as the last line of stderr."""
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2:
        print("usage: python -m litecoop.measure.contest REQUEST.json RESULT.json", file=sys.stderr)
        return 2
    try:
        request = ContestRequest.model_validate_json(Path(argv[0]).read_text())
        result = contest(request)
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    Path(argv[1]).write_text(result.model_dump_json(indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
