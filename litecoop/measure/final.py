"""The final timing of a tuned build, the one implementation that `litecoop tune`, `bench` and the Python API share.

On a CPU the saved artifact and every peer are timed in a fresh process (`contest.run_fresh`): the search's
worker pools, cost model and LLMs are gone, the contenders alternate in shuffled order, and each is called the
same way (one Python call per inference, NumPy in, NumPy out). Each contender's output is checked against the
reference (torch, or onnxruntime for an .onnx model) on fresh inputs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from litecoop.measure import contest, peers
from litecoop.measure.contest import Contender

TUNED = "tuned"  # the tuned build's name among the contenders


@dataclass
class FinalTiming:
    """The tuned build's latency samples (seconds) and its output's max abs error on fresh inputs (None when it was
    not checked), its timing as a contender (`tuned`: precision, mean abs error, cosine similarity), and every
    peer's timing (`Contender`, with its reason where it could not run)."""

    tuned_samples_s: list[float]
    tuned_fresh_error: float | None
    peers: list[Contender]
    threads: int
    tuned: Contender | None = None


def cpu_final(workload, artifact_dir: Path, out_dir: Path, threads: int, with_peers: bool = True,
              repeat: int = 10) -> FinalTiming:
    """Time the artifact in `artifact_dir` (and, `with_peers`, the CPU peers of a build in `workload.precision`:
    `peers.for_precision`) in a fresh process on `threads` threads, `repeat` samples each; the request and result
    files go to `out_dir`. Raises UserError when the fresh process fails."""
    names = peers.for_precision(workload.precision) if with_peers else []
    timings = time_fresh(workload, {TUNED: artifact_dir}, out_dir, threads, names, repeat)
    tuned = next(t for t in timings if t.name == TUNED)
    return FinalTiming(tuned.samples_s, tuned.max_abs_error, [t for t in timings if t.name != TUNED], threads, tuned)


def time_fresh(workload, builds: dict[str, Path], out_dir: Path, threads: int, peers: list[str],
               repeat: int = 10) -> list[Contender]:
    """Time saved builds of `workload` (artifact directories by name) and the named `peers` together in a fresh
    process (`contest.run_fresh`): one Contender each, builds first. Raises UserError when the fresh
    process fails."""
    import cloudpickle

    out_dir.mkdir(parents=True, exist_ok=True)
    inputs = out_dir / "inputs.npz"
    np.savez(inputs, *workload.inputs)
    model_pickle = None
    if workload.torch_module is not None:  # the reference of the fresh-input check, also without peers
        model_pickle = out_dir / "model.pkl"
        model_pickle.write_bytes(cloudpickle.dumps(workload.torch_module))
    request = contest.ContestRequest(
        builds={name: str(path) for name, path in builds.items()},
        model_pickle=str(model_pickle) if model_pickle else None,
        onnx=str(workload.onnx_path) if workload.onnx_path else None, inputs=str(inputs),
        model_type=workload.model_type, threads=threads, repeat=repeat, peers=peers)
    result = contest.run_fresh(request, out_dir)
    return result.contenders


def best_peer(peers: list[Contender], precision: str = "fp32") -> Contender | None:
    """The headline's yardstick for a build computing in `precision`: the fastest peer that ran in float32 or in
    that precision, or None."""
    ran = [p for p in peers if p.latency_s is not None and p.precision in ("fp32", precision)]
    return min(ran, key=lambda p: p.latency_s) if ran else None


def report_fields(timed: FinalTiming) -> dict:
    """The TuneReport fields a final timing sets: the tuned latency (median, seconds) and samples, every peer, the
    best peer at the tuned build's precision (`best_peer`) and tuned / it, the tuned output's accuracy, and
    onnxruntime's and torch's latencies on their own."""
    tuned_s = float(np.median(timed.tuned_samples_s))
    median = {p.name: p.latency_s for p in timed.peers if p.latency_s is not None}
    best = best_peer(timed.peers, timed.tuned.precision if timed.tuned else "fp32")
    return {"tuned_latency_s": tuned_s, "tuned_samples_s": timed.tuned_samples_s, "peers": timed.peers,
            "best_peer": best.name if best else None, "tuned_over_best_peer": tuned_s / best.latency_s if best else None,
            "tuned_over_onnxruntime": tuned_s / median["onnxruntime"] if "onnxruntime" in median else None,
            "onnxruntime_latency_s": median.get("onnxruntime"), "torch_latency_s": median.get("torch"),
            "peer_threads": timed.threads if timed.peers else None,
            "mean_abs_error": timed.tuned.mean_abs_error if timed.tuned else None,
            "cosine": timed.tuned.cosine if timed.tuned else None,
            "peer_samples_s": {p.name: p.samples_s for p in timed.peers if p.samples_s}}
