"""What users would run instead of the tuned build, each set up as its own users set it up, on the same number of
CPU threads as the tuned build (`cpu_peers`). The GPU peers are `gpu_peers`'.

CPU peers (names in `ALL`):

    onnxruntime         InferenceSession, default options (all graph optimizations), CPUExecutionProvider,
                        intra_op_num_threads = threads, inter_op_num_threads = 1
    onnxruntime-fused   the same on the model after onnxruntime.transformers' optimize_model (fused attention,
                        SkipLayerNorm, BiasGelu) for a model type in `MODEL_TYPES`
    openvino-f32        Core().compile_model on CPU, PERFORMANCE_HINT LATENCY, INFERENCE_NUM_THREADS = threads,
                        INFERENCE_PRECISION_HINT f32
    openvino            the same at OpenVINO's default inference precision (bf16 on CPUs with AVX512-BF16 or AMX)
    onnxruntime-int8    onnxruntime (as above) on the model after onnxruntime.quantization's quant_pre_process
                        (skipped, with a note, where it fails) and quantize_dynamic, weights QInt8 per channel
    openvino-int8       openvino (as above) on the model after NNCF's post-training quantization (nncf.quantize,
                        ModelType.TRANSFORMER for a model type in `MODEL_TYPES`), calibrated on the samples given
                        to `cpu_peers` (random ones for litecoop's workloads; a user would calibrate on real data)
    torch.compile       inductor with freezing, called under torch.no_grad(), torch.set_num_threads(threads)
    torch               eager, torch.set_num_threads(threads), called under torch.inference_mode()

Every peer is called as a user calls it: `peer.call(*inputs)`, one Python call per inference, NumPy arrays in,
the first output as a fresh NumPy array out, nothing cached between calls. A peer that cannot run a model (an
export, a compile or a first call fails, a model given as .onnx for the torch peers) is listed with a one-line
`reason` and no `call`: never dropped, never raised.

The int8 peers quantize while they are set up (seconds); `for_precision` leaves them out for builds computing in
another precision.
"""

from __future__ import annotations

import contextlib
import io
import logging
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

ALL = ("onnxruntime", "onnxruntime-fused", "openvino-f32", "openvino", "onnxruntime-int8", "openvino-int8",
       "torch.compile", "torch")
ONNX_PEERS = ("onnxruntime", "onnxruntime-fused", "openvino-f32", "openvino", "onnxruntime-int8", "openvino-int8")
INT8_PEERS = ("onnxruntime-int8", "openvino-int8")
TORCH_PEERS = ("torch.compile", "torch")
MODEL_TYPES = ("bert", "gpt2", "vit")  # the onnxruntime.transformers optimizer's model types offered
REASON_CHARS = 200


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


def one_line(err: BaseException) -> str:
    """The first line of an exception's message, prefixed by its type, at most `REASON_CHARS` characters."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    return f"{type(err).__name__}: {lines[0]}"[:REASON_CHARS] if lines else type(err).__name__


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


def _first_tensor(out):
    """The first tensor of a model's output: itself, the first of a tuple or list, the first value of a dict
    (transformers' ModelOutput is one)."""
    while not hasattr(out, "shape"):
        out = next(iter(out.values())) if hasattr(out, "values") else out[0]
    return out


def _onnx_feed_order(session_inputs: list[str], count: int, exported: bool) -> list[int]:
    """Which of the `count` given inputs each of the session's inputs takes: by name (input0, input1, ...) for a
    model `export_onnx` wrote (the exporter drops inputs the graph does not use), else by position."""
    if exported:
        return [int(name.removeprefix("input")) for name in session_inputs]
    if len(session_inputs) != count:
        raise ValueError(f"the ONNX model takes {len(session_inputs)} inputs, {count} were given")
    return list(range(count))


def _onnxruntime(path: Path, threads: int, count: int, exported: bool, quiet: bool = False):
    """A call of an InferenceSession on `path` with default options (all graph optimizations) on the CPU
    provider, `threads` intra-op threads and one inter-op thread. `quiet`: onnxruntime logs no error of its own
    (the caller reports it)."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    if quiet:
        options.log_severity_level = 4  # fatal only
    session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    names = [arg.name for arg in session.get_inputs()]
    order = _onnx_feed_order(names, count, exported)

    def call(*arrays: np.ndarray) -> np.ndarray:
        return session.run(None, {name: arrays[i] for name, i in zip(names, order)})[0]

    return call


def _onnxruntime_fused(path: Path, threads: int, count: int, exported: bool, model_type: str | None, tmp: Path):
    """(onnxruntime on the model after the transformers optimizer's fusions for `model_type`, heads and hidden
    size detected from the graph; a note when it took the fallback, else None).

    The optimizer's default for bert and gpt2 runs onnxruntime's basic optimizations over the model before its
    fusions; onnxruntime 1.32 then cannot create a session on some models so written (transformers 5 BERTs with
    SDPA attention: "Attempt to replace the existing tensor"). Where that happens the optimizer runs again with
    `opt_level=0` (its fusions alone; the session still applies every graph optimization), as a user would."""
    if model_type is None:
        raise _NoRun(f"no transformer model type ({', '.join(MODEL_TYPES)}) for this model")
    if model_type not in MODEL_TYPES:
        raise _NoRun(f"model type {model_type!r} is not one of {', '.join(MODEL_TYPES)}")
    from onnxruntime.transformers.optimizer import optimize_model

    fused = tmp / "fused.onnx"
    optimize_model(str(path), model_type=model_type, num_heads=0, hidden_size=0).save_model_to_file(str(fused))
    try:
        return _onnxruntime(fused, threads, count, exported, quiet=True), None
    except Exception as err:  # noqa: BLE001 - onnxruntime raises its own Fail for a session it cannot create
        why = str(err).strip().splitlines()[-1].rsplit(" : ", 1)[-1].strip()  # its own words come last
    optimize_model(str(path), model_type=model_type, num_heads=0, hidden_size=0,
                   opt_level=0).save_model_to_file(str(fused))
    note = f"optimized with opt_level=0: onnxruntime could not load the default's output ({why})"
    return _onnxruntime(fused, threads, count, exported), note[:REASON_CHARS]


def _openvino_order(ports, count: int, exported: bool) -> list[int]:
    """`_onnx_feed_order` for an OpenVINO model's or compiled model's input ports. A port may carry several tensor
    names (GPT-2's first input is also '/model/Reshape_output_0'): the exported one (input0, input1, ...) counts."""
    names = [next((n for n in sorted(port.get_names()) if n.startswith("input") and n[5:].isdigit()),
                  port.get_any_name()) for port in ports]
    return _onnx_feed_order(names, count, exported)


def _openvino(model, threads: int, count: int, exported: bool, f32: bool):
    """(a call of an OpenVINO CPU compiled model of `model` (an ONNX file's path, or an openvino.Model) tuned for
    latency on `threads` threads, at f32 or at its default inference precision; the precision it actually uses)."""
    import openvino

    core = openvino.Core()
    config = {"PERFORMANCE_HINT": "LATENCY", "INFERENCE_NUM_THREADS": threads}
    if f32:
        config["INFERENCE_PRECISION_HINT"] = "f32"
    if isinstance(model, (str, Path)):
        model = core.read_model(str(model))
    compiled = core.compile_model(model, "CPU", config)
    order = _openvino_order(compiled.inputs, count, exported)
    used = compiled.get_property("INFERENCE_PRECISION_HINT")
    used = getattr(used, "get_type_name", lambda: str(used))()
    precision = {"f32": "fp32", "bf16": "bf16", "f16": "fp16"}.get(used, used)

    def call(*arrays: np.ndarray) -> np.ndarray:
        return compiled([arrays[i] for i in order])[0]

    return call, precision


def _onnxruntime_int8(path: Path, threads: int, count: int, exported: bool, tmp: Path):
    """(onnxruntime on the model after dynamic quantization: quant_pre_process (shape inference and onnxruntime's
    basic optimizations), then quantize_dynamic with QInt8 weights per channel; a note when quant_pre_process
    failed and the model was quantized without it, else None)."""
    from onnxruntime.quantization import QuantType, quant_pre_process, quantize_dynamic

    source, note = tmp / "int8-preprocessed.onnx", None
    try:
        quant_pre_process(str(path), str(source))
    except Exception as err:  # noqa: BLE001 - shape inference and the optimizer raise many types
        source, note = path, f"quantized without quant_pre_process, which failed: {one_line(err)}"[:REASON_CHARS]
    quantized = tmp / "int8.onnx"
    quantize_dynamic(str(source), str(quantized), weight_type=QuantType.QInt8, per_channel=True)
    return _onnxruntime(quantized, threads, count, exported), note


def _openvino_int8(path: Path, threads: int, count: int, exported: bool, model_type: str | None,
                   calibration: list[list[np.ndarray]]):
    """openvino at its default inference precision on the model after NNCF's post-training quantization,
    calibrated on `calibration` (samples, each the model's inputs), ModelType.TRANSFORMER for a `model_type` in
    `MODEL_TYPES`. NNCF's progress bars and its log lines below errors are silenced (its log level is
    process-wide)."""
    import nncf
    import openvino

    nncf.set_log_level(logging.ERROR)
    model = openvino.Core().read_model(str(path))
    order = _openvino_order(model.inputs, count, exported)
    samples = [[sample[i] for i in order] for sample in calibration]  # in the model's input order
    with contextlib.redirect_stdout(io.StringIO()):  # NNCF's rich progress bars print to stdout at any log level
        quantized = nncf.quantize(model, nncf.Dataset(samples), subset_size=len(samples),
                                  model_type=nncf.ModelType.TRANSFORMER if model_type in MODEL_TYPES else None)
    call, _ = _openvino(quantized, threads, count, exported, f32=False)
    return call


def _torch_eager(module, threads: int):
    """Eager forward passes on `threads` intra-op threads under torch.inference_mode()."""
    import torch

    torch.set_num_threads(threads)

    def call(*arrays: np.ndarray) -> np.ndarray:
        if torch.get_num_threads() != threads:  # another peer or the caller changed torch's process-wide pool
            torch.set_num_threads(threads)
        with torch.inference_mode():
            return _first_tensor(module(*(torch.from_numpy(x) for x in arrays))).numpy()

    return call


def _torch_compile(module, threads: int):
    """`torch.compile(module)` (inductor) with freezing (weights folded in as constants), on `threads` threads,
    called under torch.no_grad(). Compiles on the first call."""
    import torch
    import torch._dynamo
    import torch._inductor.config

    torch.set_num_threads(threads)  # inductor's C++ kernels take their OpenMP thread count at compile time
    torch._dynamo.reset()  # a module compiled earlier in this process (on other threads) would be reused
    compiled = torch.compile(module)

    def call(*arrays: np.ndarray) -> np.ndarray:
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)
        with torch.no_grad():
            return _first_tensor(compiled(*(torch.from_numpy(x) for x in arrays))).numpy()

    def first_call(*arrays: np.ndarray) -> np.ndarray:
        with torch._inductor.config.patch(freezing=True):
            return call(*arrays)

    return call, first_call


class _NoRun(Exception):
    """A peer that does not apply to this model (its message is the reason, without an exception type)."""


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
                    call = _onnxruntime(onnx_path, threads, len(inputs), exported)
                elif name == "onnxruntime-fused":
                    call, note = _onnxruntime_fused(onnx_path, threads, len(inputs), exported, model_type, tmp)
                elif name in ("openvino-f32", "openvino"):
                    call, peer_precision = _openvino(onnx_path, threads, len(inputs), exported, f32=name == "openvino-f32")
                elif name == "onnxruntime-int8":
                    call, note = _onnxruntime_int8(onnx_path, threads, len(inputs), exported, tmp)
                elif name == "openvino-int8":
                    call = _openvino_int8(onnx_path, threads, len(inputs), exported, model_type, calibration or [inputs])
                elif name == "torch.compile":
                    call, first_call = _torch_compile(module, threads)
                else:
                    call = _torch_eager(module, threads)
                (first_call or call)(*inputs)  # the check call; torch.compile compiles in it
                setup_s = time.perf_counter() - start + (export_s if name in ONNX_PEERS else 0.0)
                peers.append(Peer(name, peer_precision, call, setup_s, note=note))
            except _NoRun as why:
                peers.append(Peer(name, peer_precision, None, 0.0, str(why)))
            except Exception as err:  # noqa: BLE001 - every runtime raises its own types; the peer says why
                peers.append(Peer(name, peer_precision, None, time.perf_counter() - start, one_line(err)))
    return peers
