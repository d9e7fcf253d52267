"""The model zoo: every entry builds into a module whose torch forward has the declared shape, names are checked,
weights follow the seed, and the CI-sized model goes through TVM (import, untuned build) and matches torch."""

import numpy as np
import pytest
import torch

from litecoop.errors import UserError
from litecoop.workload import zoo


OUTPUT_SHAPES = {
    "resnet50": (1, 1000), "mobilenet_v2": (1, 1000), "convnext_tiny": (1, 1000), "vit_b16": (1, 1000),
    "bert_base": (1, 128, 768), "distilbert": (1, 128, 768), "bert_ci": (1, 32, 128), "gpt2": (1, 128, 768),
    "qwen_prefill": (1, 128, 896), "qwen_decode": (1, 1, 896), "whisper_tiny_encoder": (1, 1500, 384),
}


def forward(module, inputs: list[np.ndarray]) -> np.ndarray:
    with torch.no_grad():
        return module(*(torch.from_numpy(x) for x in inputs)).numpy()


def test_entries_list_every_model_with_its_size_and_inputs():
    rows = {row["name"]: row for row in zoo.entries()}
    assert set(rows) == set(OUTPUT_SHAPES)
    families = {"cnn", "encoder", "decoder", "vision-transformer", "speech-encoder"}
    assert {row["family"] for row in rows.values()} == families
    assert 25e6 < rows["resnet50"]["params"] < 26e6  # ResNet-50: 25.6M
    assert 85e6 < rows["vit_b16"]["params"] < 87e6  # ViT-B/16: 86.6M
    assert rows["bert_ci"]["params"] < 5e6
    assert rows["bert_base"]["inputs"] == [((1, 128), "int64"), ((1, 128), "int64")]
    assert rows["qwen_decode"]["inputs"] == [((1, 1), "int64")] + [((1, 2, 512, 64), "float32")] * 8
    assert "CI-sized" in rows["bert_ci"]["description"]


def test_unknown_name_raises_user_error_naming_the_known_ones():
    with pytest.raises(UserError, match="unknown zoo model 'resnet5'.*resnet50.*bert_ci"):
        zoo.build("resnet5")


def test_same_seed_same_weights_and_inputs_other_seed_differs():
    (a, inputs_a), (b, inputs_b), (c, inputs_c) = (zoo.build("bert_ci", seed) for seed in (0, 0, 1))
    weights = [{k: v for k, v in m.state_dict().items() if v.is_floating_point()} for m in (a, b, c)]
    assert all(torch.equal(weights[0][k], weights[1][k]) for k in weights[0])
    assert not torch.equal(weights[0]["model.encoder.layer.0.attention.self.query.weight"],
                           weights[2]["model.encoder.layer.0.attention.self.query.weight"])
    assert all(np.array_equal(x, y) for x, y in zip(inputs_a, inputs_b))
    assert not np.array_equal(inputs_a[0], inputs_c[0])
    ids, mask = inputs_a
    assert ids.dtype == np.int64 and 0 <= ids.min() and ids.max() < a.model.config.vocab_size and (mask == 1).all()


def test_ci_model_forward_has_the_declared_shape_and_is_deterministic():
    module, inputs = zoo.build("bert_ci")
    out = forward(module, inputs)
    assert out.shape == OUTPUT_SHAPES["bert_ci"] and out.dtype == np.float32 and np.isfinite(out).all()
    np.testing.assert_array_equal(out, forward(module, inputs))  # eval mode: no dropout


@pytest.mark.slow
@pytest.mark.parametrize("name", [name for name in OUTPUT_SHAPES if name != "bert_ci"])
def test_every_entry_forward_has_the_declared_shape(name):
    module, inputs = zoo.build(name)
    out = forward(module, inputs)
    assert out.shape == OUTPUT_SHAPES[name] and out.dtype == np.float32 and np.isfinite(out).all()


def test_ci_model_imports_into_tvm_and_its_untuned_build_matches_torch():
    import tvm
    from tvm import relax
    from tvm.relax.frontend.torch import from_exported_program

    module, inputs = zoo.build("bert_ci")
    tensors = tuple(torch.from_numpy(x) for x in inputs)
    with torch.no_grad():
        mod = from_exported_program(torch.export.export(module, tensors))
    device = tvm.cpu()
    vm = relax.VirtualMachine(tvm.compile(mod, target="llvm"), device)
    out = vm["main"](*(tvm.runtime.tensor(x, device) for x in inputs))
    while not hasattr(out, "numpy"):
        out = out[0]
    reference = forward(module, inputs)
    assert out.numpy().shape == reference.shape
    assert np.abs(out.numpy() - reference).max() <= 1e-4 * max(1.0, np.abs(reference).max())


@pytest.mark.slow
def test_qwen_decode_step_continues_a_prefill_of_the_same_weights():
    module, _ = zoo.build("qwen_decode")
    ids = torch.randint(0, module.model.config.vocab_size, (1, 513), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        prefill = module.model(input_ids=ids, use_cache=True)
        cache = [t[:, :, :512] for layer in prefill.cache.layers for t in (layer.keys, layer.values)]
        step = module(ids[:, 512:], *cache)
    assert step.shape == (1, 1, 896)
    torch.testing.assert_close(step, prefill.last_hidden_state[:, 512:], atol=1e-4, rtol=1e-4)
