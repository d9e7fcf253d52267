"""How each CPU peer's runtime is set up and called (`peers.cpu_peers` chooses and checks them): onnxruntime
(plain, with its transformer fusions, quantized to int8), OpenVINO (f32, its default precision, quantized with NNCF)
and torch (eager, torch.compile). Each setup returns a call taking NumPy arrays in the model's input order and
returning the first output as a NumPy array.
"""

from __future__ import annotations

import contextlib
import io
import logging
from pathlib import Path

import numpy as np

MODEL_TYPES = ("bert", "gpt2", "vit")  # the onnxruntime.transformers optimizer's model types offered
REASON_CHARS = 200


def one_line(err: BaseException) -> str:
    """The first line of an exception's message, prefixed by its type, at most `REASON_CHARS` characters."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    return f"{type(err).__name__}: {lines[0]}"[:REASON_CHARS] if lines else type(err).__name__


class NoRun(Exception):
    """A peer that does not apply to this model (its message is the reason, without an exception type)."""


def first_tensor(out):
    """The first tensor of a model's output: itself, the first of a tuple or list, the first value of a dict
    (transformers' ModelOutput is one)."""
    while not hasattr(out, "shape"):
        out = next(iter(out.values())) if hasattr(out, "values") else out[0]
    return out


def onnx_feed_order(session_inputs: list[str], count: int, exported: bool) -> list[int]:
    """Which of the `count` given inputs each of the session's inputs takes: by name (input0, input1, ...) for a
    model `export_onnx` wrote (the exporter drops inputs the graph does not use), else by position."""
    if exported:
        return [int(name.removeprefix("input")) for name in session_inputs]
    if len(session_inputs) != count:
        raise ValueError(f"the ONNX model takes {len(session_inputs)} inputs, {count} were given")
    return list(range(count))


def onnxruntime_call(path: Path, threads: int, count: int, exported: bool, quiet: bool = False):
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
    order = onnx_feed_order(names, count, exported)

    def call(*arrays: np.ndarray) -> np.ndarray:
        return session.run(None, {name: arrays[i] for name, i in zip(names, order)})[0]

    return call


def onnxruntime_fused_call(path: Path, threads: int, count: int, exported: bool, model_type: str | None, tmp: Path):
    """(onnxruntime on the model after the transformers optimizer's fusions for `model_type`, heads and hidden
    size detected from the graph; a note when it took the fallback, else None).

    The optimizer's default for bert and gpt2 runs onnxruntime's basic optimizations over the model before its
    fusions; onnxruntime 1.32 then cannot create a session on some models so written (transformers 5 BERTs with
    SDPA attention: "Attempt to replace the existing tensor"). Where that happens the optimizer runs again with
    `opt_level=0` (its fusions alone; the session still applies every graph optimization), as a user would."""
    if model_type is None:
        raise NoRun(f"no transformer model type ({', '.join(MODEL_TYPES)}) for this model")
    if model_type not in MODEL_TYPES:
        raise NoRun(f"model type {model_type!r} is not one of {', '.join(MODEL_TYPES)}")
    from onnxruntime.transformers.optimizer import optimize_model

    fused = tmp / "fused.onnx"
    optimize_model(str(path), model_type=model_type, num_heads=0, hidden_size=0).save_model_to_file(str(fused))
    try:
        return onnxruntime_call(fused, threads, count, exported, quiet=True), None
    except Exception as err:  # noqa: BLE001 - onnxruntime raises its own Fail for a session it cannot create
        why = str(err).strip().splitlines()[-1].rsplit(" : ", 1)[-1].strip()  # its own words come last
    optimize_model(str(path), model_type=model_type, num_heads=0, hidden_size=0,
                   opt_level=0).save_model_to_file(str(fused))
    note = f"optimized with opt_level=0: onnxruntime could not load the default's output ({why})"
    return onnxruntime_call(fused, threads, count, exported), note[:REASON_CHARS]


def openvino_order(ports, count: int, exported: bool) -> list[int]:
    """`onnx_feed_order` for an OpenVINO model's or compiled model's input ports. A port may carry several tensor
    names (GPT-2's first input is also '/model/Reshape_output_0'): the exported one (input0, input1, ...) counts."""
    names = [next((n for n in sorted(port.get_names()) if n.startswith("input") and n[5:].isdigit()),
                  port.get_any_name()) for port in ports]
    return onnx_feed_order(names, count, exported)


def openvino_call(model, threads: int, count: int, exported: bool, f32: bool):
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
    order = openvino_order(compiled.inputs, count, exported)
    used = compiled.get_property("INFERENCE_PRECISION_HINT")
    used = getattr(used, "get_type_name", lambda: str(used))()
    precision = {"f32": "fp32", "bf16": "bf16", "f16": "fp16"}.get(used, used)

    def call(*arrays: np.ndarray) -> np.ndarray:
        return compiled([arrays[i] for i in order])[0]

    return call, precision


def onnxruntime_int8_call(path: Path, threads: int, count: int, exported: bool, tmp: Path):
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
    return onnxruntime_call(quantized, threads, count, exported), note


def openvino_int8_call(path: Path, threads: int, count: int, exported: bool, model_type: str | None,
                   calibration: list[list[np.ndarray]]):
    """openvino at its default inference precision on the model after NNCF's post-training quantization,
    calibrated on `calibration` (samples, each the model's inputs), ModelType.TRANSFORMER for a `model_type` in
    `MODEL_TYPES`. NNCF's progress bars and its log lines below errors are silenced (its log level is
    process-wide)."""
    import nncf
    import openvino

    nncf.set_log_level(logging.ERROR)
    model = openvino.Core().read_model(str(path))
    order = openvino_order(model.inputs, count, exported)
    samples = [[sample[i] for i in order] for sample in calibration]  # in the model's input order
    with contextlib.redirect_stdout(io.StringIO()):  # NNCF's rich progress bars print to stdout at any log level
        quantized = nncf.quantize(model, nncf.Dataset(samples), subset_size=len(samples),
                                  model_type=nncf.ModelType.TRANSFORMER if model_type in MODEL_TYPES else None)
    call, _ = openvino_call(quantized, threads, count, exported, f32=False)
    return call


def torch_eager_call(module, threads: int):
    """Eager forward passes on `threads` intra-op threads under torch.inference_mode()."""
    import torch

    torch.set_num_threads(threads)

    def call(*arrays: np.ndarray) -> np.ndarray:
        if torch.get_num_threads() != threads:  # another peer or the caller changed torch's process-wide pool
            torch.set_num_threads(threads)
        with torch.inference_mode():
            return first_tensor(module(*(torch.from_numpy(x) for x in arrays))).numpy()

    return call


def torch_compile_call(module, threads: int):
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
            return first_tensor(compiled(*(torch.from_numpy(x) for x in arrays))).numpy()

    def first_call(*arrays: np.ndarray) -> np.ndarray:
        with torch._inductor.config.patch(freezing=True):
            return call(*arrays)

    return call, first_call
