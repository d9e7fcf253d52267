"""A zoo of whole models people serve on CPUs, built from transformers' own model classes with random weights.

Every model is batch 1, float32, in eval mode, built from a configuration written here (nothing is downloaded):
`torch.manual_seed(seed)` comes right before construction, so the weights are a function of the seed, and the
example inputs come from `numpy.random.default_rng(seed)` (token ids uniform in the vocabulary, attention masks
all ones). Every module's `forward` takes positional tensors and returns one tensor, so it goes through
`torch.export` and `torch.onnx.export` as it is.

The models with an onnxruntime optimizer type use eager attention: exported to ONNX, its matmul-softmax-matmul is
what the optimizer fuses into one Attention node (it does for the BERTs; SDPA's export is never fused). TVM's
importer decomposes SDPA into the same matmuls and softmax, so its graph is the same either way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
import transformers as hf

from litecoop.errors import UserError


@dataclass(frozen=True)
class Entry:
    """A model of the zoo: `ort_type` is its onnxruntime transformers-optimizer model type ("bert", "gpt2",
    "vit") or None; `builder(rng)` constructs the module and its example inputs (numpy, from `rng`)."""

    name: str
    family: str  # "cnn", "encoder", "decoder", "vision-transformer" or "speech-encoder"
    description: str
    ort_type: str | None
    builder: Callable[[np.random.Generator], tuple[torch.nn.Module, list[np.ndarray]]]


class _Call(torch.nn.Module):
    """`model(**{name: tensor})` over the positional tensors, reduced to its `output` field (one tensor)."""

    def __init__(self, model: torch.nn.Module, names: tuple[str, ...], output: str):
        super().__init__()
        self.model, self.names, self.output = model, names, output

    def forward(self, *tensors):
        return getattr(self.model(**dict(zip(self.names, tensors))), self.output)


class _DecodeStep(torch.nn.Module):
    """One decode step of a Qwen2 stack: input_ids (1, 1) int64, then key and value of every layer, each
    (1, kv_heads, past, head_dim) float32 -> the new token's last hidden state (1, 1, hidden).

    The cache is a transformers DynamicCache made inside forward, its layers holding the input tensors as they
    are: filling them through `DynamicCache(ddp_cache_data=...)` would concatenate each onto a 1-D empty tensor,
    a concat that TVM's importer rejects ("Concat expects all input tensors to have same ndim")."""

    def __init__(self, model: torch.nn.Module):
        super().__init__()
        self.model = model

    def forward(self, input_ids, *keys_and_values):
        cache = hf.DynamicCache(config=self.model.config)
        for layer, key, value in zip(cache.layers, keys_and_values[0::2], keys_and_values[1::2]):
            layer.lazy_initialization(key, value)
            layer.keys, layer.values = key, value
        return self.model(input_ids=input_ids, cache=cache, use_cache=True).last_hidden_state


def _classifier(model: torch.nn.Module, rng) -> tuple[torch.nn.Module, list[np.ndarray]]:
    """An image classifier: pixel_values (1, 3, 224, 224) float32 -> logits (1, 1000)."""
    return _Call(model, ("pixel_values",), "logits"), [rng.standard_normal((1, 3, 224, 224), dtype=np.float32)]


def _text(model: torch.nn.Module, rng, length: int = 128) -> tuple[torch.nn.Module, list[np.ndarray]]:
    """A text encoder or decoder: input_ids and attention_mask (1, length) int64 -> last hidden state
    (1, length, hidden). (A decoder given no mask looks for packed sequences with torch.diff, which
    torch.onnx.export cannot export.)"""
    return (_Call(model, ("input_ids", "attention_mask"), "last_hidden_state"),
            _tokens(rng, model.config.vocab_size, length))


def _tokens(rng, vocab: int, length: int, mask: bool = True) -> list[np.ndarray]:
    """input_ids (1, length) int64 uniform in [0, vocab), then (when `mask`) attention_mask (1, length) int64 ones."""
    ids = rng.integers(0, vocab, size=(1, length), dtype=np.int64)
    return [ids, np.ones_like(ids)] if mask else [ids]


def _qwen() -> torch.nn.Module:
    """Qwen2.5-0.5B's configuration cut to its first 4 of 24 layers (GQA: 14 query heads over 2 KV heads of 64),
    without the LM head (tied to the embedding)."""
    return hf.Qwen2Model(hf.Qwen2Config(
        vocab_size=151936, hidden_size=896, intermediate_size=4864, num_hidden_layers=4, num_attention_heads=14,
        num_key_value_heads=2, max_position_embeddings=32768, rms_norm_eps=1e-6, tie_word_embeddings=True,
        rope_parameters={"rope_type": "default", "rope_theta": 1e6}, use_cache=False))


def _qwen_decode(rng, past: int = 512):
    """input_ids (1, 1) int64, then key and value of each of the 4 layers, (1, 2, past, 64) float32 -> the
    token's last hidden state (1, 1, 896)."""
    model = _qwen()
    cache = [rng.standard_normal((1, 2, past, 64), dtype=np.float32) for _ in range(2 * model.config.num_hidden_layers)]
    return _DecodeStep(model), _tokens(rng, model.config.vocab_size, 1, mask=False) + cache


def _whisper_encoder(rng):
    """input_features (1, 80, 3000) float32 (30 s of log-mel) -> last hidden state (1, 1500, 384)."""
    from transformers.models.whisper.modeling_whisper import WhisperEncoder

    encoder = WhisperEncoder(hf.WhisperConfig(d_model=384, encoder_layers=4, encoder_attention_heads=6,
                                              encoder_ffn_dim=1536, num_mel_bins=80))
    features = rng.standard_normal((1, 80, 3000), dtype=np.float32)
    return _Call(encoder, ("input_features",), "last_hidden_state"), [features]


def _bert(**config) -> torch.nn.Module:
    """A BERT without its pooler (the output is the last hidden state)."""
    return hf.BertModel(hf.BertConfig(**config, attn_implementation="eager"), add_pooling_layer=False)


def _mobilenet_v2() -> torch.nn.Module:
    """MobileNetV2 with its convolutions drawn kaiming-normal over fan-in: transformers' generic normal(0, 0.02)
    shrinks activations ~20x per depthwise layer, to logits of ~1e-21."""
    model = hf.MobileNetV2ForImageClassification(hf.MobileNetV2Config(num_labels=1000))
    for conv in (m for m in model.modules() if isinstance(m, torch.nn.Conv2d)):
        torch.nn.init.kaiming_normal_(conv.weight, mode="fan_in", nonlinearity="relu")
    return model


ZOO: dict[str, Entry] = {entry.name: entry for entry in [
    Entry("resnet50", "cnn", "ResNet-50, 224x224 image -> 1000 logits", None,
          lambda rng: _classifier(hf.ResNetForImageClassification(hf.ResNetConfig(num_labels=1000)), rng)),
    Entry("mobilenet_v2", "cnn", "MobileNetV2 (width 1.0), 224x224 image -> 1000 logits", None,
          lambda rng: _classifier(_mobilenet_v2(), rng)),
    Entry("convnext_tiny", "cnn", "ConvNeXt-T, 224x224 image -> 1000 logits", None,
          lambda rng: _classifier(hf.ConvNextForImageClassification(hf.ConvNextConfig(num_labels=1000)), rng)),
    Entry("bert_base", "encoder", "BERT-base (12 layers, hidden 768), 128 tokens -> last hidden state", "bert",
          lambda rng: _text(_bert(), rng)),
    Entry("distilbert", "encoder", "DistilBERT (6 layers, hidden 768), 128 tokens -> last hidden state", "bert",
          lambda rng: _text(hf.DistilBertModel(hf.DistilBertConfig(attn_implementation="eager")), rng)),
    Entry("bert_ci", "encoder", "CI-sized (tunes in a minute on 2 cores): BERT of 2 layers, hidden 128, 2 heads, "
          "FFN 512, 32 tokens -> last hidden state", "bert",
          lambda rng: _text(_bert(hidden_size=128, num_hidden_layers=2, num_attention_heads=2, intermediate_size=512),
                            rng, length=32)),
    Entry("gpt2", "decoder", "GPT-2 small (12 layers, hidden 768), 128-token prefill -> last hidden state", "gpt2",
          lambda rng: _text(hf.GPT2Model(hf.GPT2Config(use_cache=False, attn_implementation="eager")), rng)),
    Entry("qwen_prefill", "decoder", "Qwen2.5-0.5B cut to 4 layers, 128-token prefill -> last hidden state", None,
          lambda rng: _text(_qwen(), rng)),
    Entry("qwen_decode", "decoder", "Qwen2.5-0.5B cut to 4 layers, one decode step over a 512-token KV cache "
          "-> the token's last hidden state", None, _qwen_decode),
    Entry("vit_b16", "vision-transformer", "ViT-B/16, 224x224 image -> 1000 logits", "vit",
          lambda rng: _classifier(hf.ViTForImageClassification(
              hf.ViTConfig(num_labels=1000, attn_implementation="eager")), rng)),
    Entry("whisper_tiny_encoder", "speech-encoder", "Whisper-tiny's encoder (4 layers, d_model 384), 30 s of "
          "80 log-mel bins -> last hidden state", None, _whisper_encoder),
]}


def build(name: str, seed: int = 0) -> tuple[torch.nn.Module, list[np.ndarray]]:
    """The zoo's model `name` in eval mode with weights drawn after `torch.manual_seed(seed)`, and its example
    inputs. Raises UserError naming the known models for an unknown `name`."""
    if name not in ZOO:
        raise UserError(f"unknown zoo model '{name}' (known: {', '.join(ZOO)})")
    torch.manual_seed(seed)
    module, inputs = ZOO[name].builder(np.random.default_rng(seed))
    return module.eval(), inputs


def entries() -> list[dict]:
    """One row per model for a listing: name, family, description, ort_type, params (count) and inputs
    ([(shape, dtype name)]). The modules are made on the meta device: no weights are drawn."""
    rows = []
    for entry in ZOO.values():
        with torch.device("meta"):
            module, inputs = entry.builder(np.random.default_rng(0))
        rows.append({"name": entry.name, "family": entry.family, "description": entry.description,
                     "ort_type": entry.ort_type, "params": sum(p.numel() for p in module.parameters()),
                     "inputs": [(tuple(x.shape), x.dtype.name) for x in inputs]})
    return rows
