"""What users run on a GPU instead of the tuned build: torch eager and torch.compile (inductor) on the same GPU,
timed with CUDA events."""

from __future__ import annotations

import copy

import numpy as np


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


def torch_cuda_latencies(module, inputs: list[np.ndarray], repeat: int = 20, device: str = "cuda",
                         half: bool = False) -> dict:
    """Torch on the GPU `device` (a torch device name), the inputs copied there once: `torch_cuda_latency_s`,
    the median seconds of one eager forward pass, and `torch_compile_cuda_latency_s`, the same for
    `torch.compile(module)` (inductor), both timed with CUDA events. Where torch.compile fails,
    `torch_compile_error` holds the first line of its error instead; where this torch has no CUDA device,
    `torch_cuda_error` alone says so. `module` is copied to `device`; the workload's module stays where it is.
    With `half`, the copy and its floating-point inputs are float16 (the peer of a `--precision fp16` build)."""
    import torch

    if not torch.cuda.is_available():
        return {"torch_cuda_error": f"torch {torch.__version__} has no CUDA device here"}
    module = copy.deepcopy(module).to(device).eval()
    tensors = [torch.from_numpy(x).to(device) for x in inputs]
    if half:
        module = module.half()
        tensors = [t.half() if t.is_floating_point() else t for t in tensors]
    result = {}
    with torch.no_grad():
        result["torch_cuda_latency_s"] = _cuda_event_latency(lambda: module(*tensors), repeat)
        try:
            compiled = torch.compile(module)
            result["torch_compile_cuda_latency_s"] = _cuda_event_latency(lambda: compiled(*tensors), repeat)
        except Exception as err:  # noqa: BLE001 - inductor raises many error types; eager is still the peer
            result["torch_compile_error"] = (str(err).splitlines() or [type(err).__name__])[0][:200]
    return result
