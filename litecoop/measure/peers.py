"""What users would run instead of the tuned build, each set up as its own users set it up, on the same number of
CPU threads as the tuned build (`cpu_peers`). The GPU peers are `gpu_peers`'.

CPU peers (names in `ALL`):

    onnxruntime         InferenceSession, default options (all graph optimizations), CPUExecutionProvider,
                        intra_op_num_threads = threads, inter_op_num_threads = 1
    onnxruntime-fused   the same on the model after onnxruntime.transformers' optimize_model (fused attention,
                        SkipLayerNorm, BiasGelu) for a model type in `runtimes.MODEL_TYPES`
    openvino-f32        Core().compile_model on CPU, PERFORMANCE_HINT LATENCY, INFERENCE_NUM_THREADS = threads,
                        INFERENCE_PRECISION_HINT f32
    openvino            the same at OpenVINO's default inference precision (bf16 on CPUs with AVX512-BF16 or AMX)
    onnxruntime-int8    onnxruntime (as above) on the model after onnxruntime.quantization's quant_pre_process
                        (skipped, with a note, where it fails) and quantize_dynamic, weights QInt8 per channel
    openvino-int8       openvino (as above) on the model after NNCF's post-training quantization (nncf.quantize,
                        ModelType.TRANSFORMER for those model types), calibrated on the samples given
                        to `cpu_peers` (random ones for litecoop's workloads; a user would calibrate on real data)
    torch.compile       inductor with freezing, called under torch.no_grad(), torch.set_num_threads(threads)
    torch               eager, torch.set_num_threads(threads), called under torch.inference_mode()

Every peer is called as a user calls it: `peer.call(*inputs)`, one Python call per inference, NumPy arrays in,
the first output as a fresh NumPy array out, nothing cached between calls. A peer that cannot run a model (an
export, a compile or a first call fails, a model given as .onnx for the torch peers) is listed with a one-line
`reason` and no `call`: never dropped, never raised.

`runtimes` sets each runtime up. The int8 peers quantize while they are set up (seconds); `for_precision` leaves
them out for builds computing in another precision.
"""

from __future__ import annotations

import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from litecoop.measure import runtimes
from litecoop.measure.runtimes import REASON_CHARS, one_line

ALL = ("onnxruntime", "onnxruntime-fused", "openvino-f32", "openvino", "onnxruntime-int8", "openvino-int8",
       "torch.compile", "torch")
ONNX_PEERS = ("onnxruntime", "onnxruntime-fused", "openvino-f32", "openvino", "onnxruntime-int8", "openvino-int8")
INT8_PEERS = ("onnxruntime-int8", "openvino-int8")
TORCH_PEERS = ("torch.compile", "torch")


def for_precision(precision: str) -> list[str]:
    """The peers a build computing in `precision` ("fp32", "bf16", "int8") is timed against, in `ALL`'s order:
    every peer, less the int8 ones unless `precision` is "int8" (they quantize the model while they are set up,
    which costs seconds, and a build in another precision is not measured against them)."""
    return [name for name in ALL if name not in INT8_PEERS or precision == "int8"]


@dataclass
class Peer:
    """One runtime a user could run instead of the tuned build.

    `name`: one of `ALL`; `precision`: the arithmetic it computes in ("fp32", "bf16", "int8", ...); `call`: one
    inference, `call(*inputs)` with NumPy arrays (in the order of the model's inputs) returning the first output as
    a NumPy array, or None when the peer cannot run this model; `setup_s`: seconds to set it up (export and session
    creation, quantization, or compilation including the first call for torch.compile); `reason`: one line saying
    why it cannot run this model (None when it can); `note`: one line on where its setup departed from the usual
    one (a fallback it took), else None."""

    name: str
    precision: str
    call: Callable[..., np.ndarray] | None
    setup_s: float = 0.0
    reason: str | None = None
    note: str | None = None


def export_onnx(module, inputs: list[np.ndarray], path: Path) -> Path:
    """Export a torch module to ONNX at `path` (TorchScript exporter, inputs named input0, input1, ...).
    Returns `path`; raises whatever the exporter raises for a module it cannot export."""
    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the exporter's deprecation and tracer notices
        torch.onnx.export(module, tuple(torch.from_numpy(x) for x in inputs), str(path),
                          input_names=[f"input{i}" for i in range(len(inputs))], dynamo=False)
    return path


def precision_of(module, inputs: list[np.ndarray]) -> str:
    """The precision the model computes in as given: its first floating parameter's, else its first floating
    input's, else fp32."""
    names = {"float32": "fp32", "float16": "fp16", "bfloat16": "bf16", "float64": "fp64"}
    if module is not None:
        for parameter in module.parameters():
            if parameter.is_floating_point():
                return names.get(str(parameter.dtype).removeprefix("torch."), str(parameter.dtype))
    for x in inputs:
        if np.issubdtype(x.dtype, np.floating):
            return names.get(str(x.dtype), str(x.dtype))
    return "fp32"


def cpu_peers(threads: int, inputs: list[np.ndarray], *, module=None, onnx_path: Path | None = None,
              model_type: str | None = None, names: Sequence[str] = ALL,
              calibration: list[list[np.ndarray]] | None = None) -> list[Peer]:
    """The CPU peers `names` (each in `ALL`), in that order, set up on `threads` threads and called once on
    `inputs` (NumPy arrays, in the order of the model's inputs) as a check.

    `module`: the model as a torch module in eval mode (None for a model given as ONNX: the torch peers then get a
    reason); `onnx_path`: the model as an ONNX file (None: `module` is exported to a temporary one with
    `export_onnx`); `model_type`: the model's onnxruntime.transformers type (bert, gpt2, vit) for
    onnxruntime-fused, which gets a reason without one, and for openvino-int8 (NNCF's transformer model type, else
    its default). openvino-int8 calibrates on `calibration` (samples like `inputs`; None: `inputs` alone). Any
    exception while setting a peer up or in its check call becomes that peer's `reason` (first line, <= 200
    characters); `setup_s` is seconds. The torch peers set torch's process-wide intra-op threads
    (`torch.set_num_threads`), torch.compile resets dynamo's caches, and openvino-int8 sets NNCF's process-wide log
    level to errors. Raises ValueError for a name not in `ALL` or for neither a module nor an ONNX file."""
    unknown = [name for name in names if name not in ALL]
    if unknown:
        raise ValueError(f"unknown peers {unknown}; known: {', '.join(ALL)}")
    if module is None and onnx_path is None:
        raise ValueError("cpu_peers needs a torch module or an ONNX file")
    precision = precision_of(module, inputs)
    peers: list[Peer] = []
    with tempfile.TemporaryDirectory(prefix="litecoop-peers-") as tmp:
        tmp = Path(tmp)
        export_s, export_error, exported = 0.0, None, onnx_path is None
        if onnx_path is None and any(name in ONNX_PEERS for name in names):
            start = time.perf_counter()
            try:
                onnx_path = export_onnx(module, inputs, tmp / "model.onnx")
            except Exception as err:  # noqa: BLE001 - the exporter raises many types; the peers say why
                export_error = f"ONNX export failed: {one_line(err)}"[:REASON_CHARS]
            export_s = time.perf_counter() - start

        onnx_args = (onnx_path, threads, len(inputs), exported)
        for name in names:
            peer_precision, first_call, note = "int8" if name in INT8_PEERS else precision, None, None
            if name in ONNX_PEERS and export_error:
                peers.append(Peer(name, peer_precision, None, export_s, export_error))
                continue
            if name in TORCH_PEERS and module is None:
                peers.append(Peer(name, precision, None, 0.0, "the model is given as ONNX, not as a torch module"))
                continue
            start = time.perf_counter()
            try:
                if name == "onnxruntime":
                    call = runtimes.onnxruntime_call(*onnx_args)
                elif name == "onnxruntime-fused":
                    call, note = runtimes.onnxruntime_fused_call(*onnx_args, model_type, tmp)
                elif name in ("openvino-f32", "openvino"):
                    call, peer_precision = runtimes.openvino_call(*onnx_args, f32=name == "openvino-f32")
                elif name == "onnxruntime-int8":
                    call, note = runtimes.onnxruntime_int8_call(*onnx_args, tmp)
                elif name == "openvino-int8":
                    call = runtimes.openvino_int8_call(*onnx_args, model_type, calibration or [inputs])
                elif name == "torch.compile":
                    call, first_call = runtimes.torch_compile_call(module, threads)
                else:
                    call = runtimes.torch_eager_call(module, threads)
                (first_call or call)(*inputs)  # the check call; torch.compile compiles in it
                setup_s = time.perf_counter() - start + (export_s if name in ONNX_PEERS else 0.0)
                peers.append(Peer(name, peer_precision, call, setup_s, note=note))
            except runtimes.NoRun as why:
                peers.append(Peer(name, peer_precision, None, 0.0, str(why)))
            except Exception as err:  # noqa: BLE001 - every runtime raises its own types; the peer says why
                peers.append(Peer(name, peer_precision, None, time.perf_counter() - start, one_line(err)))
    return peers
