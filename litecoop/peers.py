"""What users already run: torch eager and onnxruntime (CPU provider) on the same CPU threads, or torch eager
and torch.compile on the same GPU (timed with CUDA events).

A CPU peer is timed the way a user calls it: one Python call per inference on the same input arrays, a fresh
output each time, nothing cached between calls. Each CPU peer becomes a sampler (a function returning one
latency sample in seconds) so that `timing.interleave` can time it in alternation with the tuned build.
"""

from __future__ import annotations

import copy
import tempfile
import time
import warnings
from pathlib import Path
from typing import Callable

import numpy as np

Sampler = Callable[[], float]


def call_sampler(call: Callable[[], object], sample_s: float = 0.05) -> Sampler:
    """A sampler of `call`: each sample is the mean seconds of enough back-to-back calls to last ~`sample_s`
    seconds (at least one call). Calls `call` twice first (warm-up, and to size the sample)."""
    call()
    start = time.perf_counter()
    call()
    number = max(1, int(sample_s / max(time.perf_counter() - start, 1e-6)))

    def sample() -> float:
        begin = time.perf_counter()
        for _ in range(number):
            call()
        return (time.perf_counter() - begin) / number

    return sample


def torch_sampler(module, inputs: list[np.ndarray], threads: int) -> Sampler:
    """Eager forward passes of `module` (no autograd) with `threads` intra-op threads."""
    import torch

    torch.set_num_threads(threads)
    tensors = [torch.from_numpy(x) for x in inputs]

    def call():
        with torch.no_grad():
            return module(*tensors)

    return call_sampler(call)


def export_onnx(module, inputs: list[np.ndarray], path: Path) -> Path:
    """Export a torch module to ONNX at `path` (TorchScript exporter, inputs named input0, input1, ...)."""
    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the exporter's deprecation and tracer notices
        torch.onnx.export(module, tuple(torch.from_numpy(x) for x in inputs), str(path),
                          input_names=[f"input{i}" for i in range(len(inputs))], dynamo=False)
    return path


def onnxruntime_sampler(inputs: list[np.ndarray], threads: int, module=None, onnx_path: Path | None = None) -> Sampler:
    """`InferenceSession.run` calls on the CPU provider with `threads` intra-op threads (1 inter-op), on
    `onnx_path`, or on `module` exported to ONNX first."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    with tempfile.TemporaryDirectory() as tmp:
        path = onnx_path or export_onnx(module, inputs, Path(tmp) / "model.onnx")
        session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    feed = {arg.name: x for arg, x in zip(session.get_inputs(), inputs)}
    return call_sampler(lambda: session.run(None, feed))


def samplers(workload, threads: int) -> dict[str, Sampler]:
    """{"onnxruntime": ..., "torch": ...} for a workload: both for one built from a torch module (kernels,
    minilm, module:function), onnxruntime alone for an .onnx file."""
    if workload.torch_module is not None:
        return {"onnxruntime": onnxruntime_sampler(workload.inputs, threads, module=workload.torch_module),
                "torch": torch_sampler(workload.torch_module, workload.inputs, threads)}
    return {"onnxruntime": onnxruntime_sampler(workload.inputs, threads, onnx_path=workload.onnx_path)}


def _cuda_event_latency(call, repeat: int) -> float:
    """Median seconds of one `call`, timed with CUDA events around enough calls to last ~10 ms per sample."""
    import torch

    def timed(calls: int) -> float:
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(calls):
            call()
        end.record()
        torch.cuda.synchronize()
        return start.elapsed_time(end) / 1e3 / calls

    for _ in range(3):
        call()
    calls = max(1, int(0.01 / max(timed(1), 1e-6)))
    return float(np.median([timed(calls) for _ in range(repeat)]))


def torch_cuda_latencies(module, inputs: list[np.ndarray], repeat: int = 20, device: str = "cuda") -> dict:
    """Torch on the GPU `device` (a torch device name), the inputs copied there once: `torch_cuda_latency_s`,
    the median seconds of one eager forward pass, and `torch_compile_cuda_latency_s`, the same for
    `torch.compile(module)` (inductor), both timed with CUDA events. Where torch.compile fails,
    `torch_compile_error` holds the first line of its error instead; where this torch has no CUDA device,
    `torch_cuda_error` alone says so. `module` is copied to `device`; the workload's module stays where it is."""
    import torch

    if not torch.cuda.is_available():
        return {"torch_cuda_error": f"torch {torch.__version__} has no CUDA device here"}
    module = copy.deepcopy(module).to(device).eval()
    tensors = [torch.from_numpy(x).to(device) for x in inputs]
    result = {}
    with torch.no_grad():
        result["torch_cuda_latency_s"] = _cuda_event_latency(lambda: module(*tensors), repeat)
        try:
            compiled = torch.compile(module)
            result["torch_compile_cuda_latency_s"] = _cuda_event_latency(lambda: compiled(*tensors), repeat)
        except Exception as err:  # noqa: BLE001 - inductor raises many error types; eager is still the peer
            result["torch_compile_error"] = (str(err).splitlines() or [type(err).__name__])[0][:200]
    return result
