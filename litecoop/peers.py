"""Latency of a served model in its peers on the same threads: torch eager and onnxruntime (CPU)."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np


def _median_latency(call, repeat: int) -> float:
    call()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    return float(np.median(samples))


def torch_latency_s(module, inputs: list[np.ndarray], threads: int, repeat: int = 20) -> float:
    """Median seconds of one eager forward pass with `threads` intra-op threads."""
    import torch

    torch.set_num_threads(threads)
    tensors = [torch.from_numpy(x) for x in inputs]
    with torch.no_grad():
        return _median_latency(lambda: module(*tensors), repeat)


def onnxruntime_latency_s(inputs: list[np.ndarray], threads: int, module=None, onnx_path: Path | None = None,
                          repeat: int = 20) -> float:
    """Median seconds of one onnxruntime (CPU provider) run with `threads` intra-op threads.
    A torch module is exported to ONNX first (TorchScript exporter)."""
    import onnxruntime
    import torch

    with tempfile.TemporaryDirectory() as tmp:
        if onnx_path is None:
            onnx_path = Path(tmp) / "model.onnx"
            names = [f"input{i}" for i in range(len(inputs))]
            torch.onnx.export(module, tuple(torch.from_numpy(x) for x in inputs), str(onnx_path),
                              input_names=names, dynamo=False)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        session = onnxruntime.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
        feed = {arg.name: x for arg, x in zip(session.get_inputs(), inputs)}
        return _median_latency(lambda: session.run(None, feed), repeat)
