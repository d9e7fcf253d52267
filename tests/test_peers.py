"""The CPU peers, on real runtimes: each runs a model and matches torch, or says in one line why it cannot; and
each runs on the number of threads it was given."""

import os
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from litecoop.measure import peers, runtimes
from litecoop.measure.peers import ALL, INT8_PEERS, cpu_peers

FP32_TOLERANCE = 1e-4  # max abs error against torch eager, for every peer computing in fp32
BF16_TOLERANCE = 5e-2  # max abs error relative to the largest output magnitude, for a peer computing in bf16
INT8_TOLERANCE = 1e-1  # the same for an int8 peer (~1e-2 on these small models, 5e-2 to 9e-2 on MiniLM)


class Encoder(torch.nn.Module):
    """A transformers encoder called as the workload zoo calls one: positional token ids and attention mask in,
    the last hidden state out. (A bare transformers 5 BertModel does not export: the TorchScript exporter fills
    in its optional arguments positionally, and transformers then gets `use_cache` twice.)"""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask):
        return self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state


def tiny_bert():
    """(a 2-layer BERT, hidden size 64, random weights, in eval mode; its inputs: token ids and an attention
    mask of one sequence of 16 tokens)."""
    import transformers

    torch.manual_seed(0)
    config = transformers.BertConfig(hidden_size=64, num_hidden_layers=2, num_attention_heads=2,
                                     intermediate_size=128, vocab_size=1000)
    model = Encoder(transformers.BertModel(config, add_pooling_layer=False)).eval()
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 1000, size=(1, 16), dtype=np.int64)
    return model, [ids, np.ones((1, 16), dtype=np.int64)]


def linear_gelu():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(32, 64), torch.nn.GELU(), torch.nn.Linear(64, 16)).eval()
    return model, [np.random.default_rng(0).standard_normal((4, 32)).astype(np.float32)]


def expected_output(module, inputs) -> np.ndarray:
    with torch.no_grad():
        return runtimes.first_tensor(module(*(torch.from_numpy(x) for x in inputs))).numpy()


def assert_runs_or_says_why(peer, inputs, expected: np.ndarray):
    """The peer runs `inputs` and matches `expected` within its precision's tolerance, or has a one-line reason."""
    if peer.call is None:
        assert peer.reason and "\n" not in peer.reason and len(peer.reason) <= 200, peer
        return
    assert peer.reason is None and peer.setup_s > 0
    out = peer.call(*inputs)
    assert isinstance(out, np.ndarray) and out.shape == expected.shape, (peer.name, type(out))
    error = float(np.max(np.abs(out - expected)))
    if peer.precision == "fp32":
        assert error <= FP32_TOLERANCE, (peer.name, error)
    elif peer.precision == "int8":
        assert error <= INT8_TOLERANCE * float(np.max(np.abs(expected))), (peer.name, error)
    else:
        assert error <= BF16_TOLERANCE * float(np.max(np.abs(expected))), (peer.name, peer.precision, error)


def by_name(found: list) -> dict:
    return {peer.name: peer for peer in found}


@pytest.mark.slow  # torch.compile and four ONNX runtimes on a BERT: ~30 s
def test_every_peer_runs_a_tiny_bert_and_matches_torch_or_says_why():
    module, inputs = tiny_bert()
    found = by_name(cpu_peers(2, inputs, module=module, model_type="bert"))
    assert list(found) == list(ALL)
    expected = expected_output(module, inputs)
    for peer in found.values():
        assert_runs_or_says_why(peer, inputs, expected)
    # these run on any x86 CPU: a reason for one of them is a broken setup, not a model a peer cannot run
    for name in ("onnxruntime", "onnxruntime-fused", "openvino-f32", "openvino", "torch"):
        assert found[name].call is not None, found[name].reason
    fused = found["onnxruntime-fused"]
    assert fused.note is None or ("\n" not in fused.note and fused.note.startswith("optimized with opt_level=0"))
    assert found["openvino-f32"].precision == "fp32"
    assert found["openvino"].precision in ("fp32", "bf16", "fp16")
    print({name: (peer.precision, round(peer.setup_s, 2), peer.reason, peer.note) for name, peer in found.items()})


def test_without_a_model_type_the_fused_peer_says_why_and_the_others_run():
    module, inputs = linear_gelu()
    found = by_name(cpu_peers(1, inputs, module=module, names=("onnxruntime", "onnxruntime-fused", "openvino-f32",
                                                                "torch")))
    assert list(found) == ["onnxruntime", "onnxruntime-fused", "openvino-f32", "torch"]
    assert found["onnxruntime-fused"].call is None
    assert found["onnxruntime-fused"].reason == "no transformer model type (bert, gpt2, vit) for this model"
    expected = expected_output(module, inputs)
    for peer in found.values():
        assert_runs_or_says_why(peer, inputs, expected)
    assert all(found[name].call is not None for name in ("onnxruntime", "openvino-f32", "torch"))


def mlp():
    """A 2-layer MLP, 256 -> 512 -> 256, on a batch of 8: two matmuls with weights for the quantizers to take."""
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(256, 512), torch.nn.ReLU(), torch.nn.Linear(512, 256)).eval()
    return model, [np.random.default_rng(0).standard_normal((8, 256)).astype(np.float32)]


def test_the_int8_peers_quantize_and_stay_close_to_float32():
    module, inputs = mlp()
    found = by_name(cpu_peers(2, inputs, module=module, names=("onnxruntime", "openvino") + INT8_PEERS))
    expected = expected_output(module, inputs)
    for name, unquantized in (("onnxruntime-int8", "onnxruntime"), ("openvino-int8", "openvino")):
        peer = found[name]
        assert peer.call is not None and peer.reason is None, peer
        assert peer.precision == "int8"
        assert peer.note is None or "\n" not in peer.note, peer.note
        assert_runs_or_says_why(peer, inputs, expected)
        # quantization that silently did nothing would give the unquantized peer's output, bit for bit (for
        # openvino: its default precision, bf16 on this CPU, is as far from float32 as int8 is on this model)
        assert found[unquantized].call is not None, found[unquantized].reason
        assert not np.array_equal(peer.call(*inputs), found[unquantized].call(*inputs)), name
        assert float(np.max(np.abs(peer.call(*inputs) - expected))) > FP32_TOLERANCE, name


def test_where_quant_pre_process_fails_onnxruntime_int8_quantizes_without_it_and_says_so(monkeypatch):
    import onnxruntime.quantization

    def fails(*args, **kwargs):
        raise RuntimeError("symbolic shape inference failed\nsecond line")

    monkeypatch.setattr(onnxruntime.quantization, "quant_pre_process", fails)
    module, inputs = mlp()
    [peer] = cpu_peers(1, inputs, module=module, names=("onnxruntime-int8",))
    assert peer.call is not None and peer.reason is None and peer.precision == "int8"
    assert peer.note == ("quantized without quant_pre_process, which failed: RuntimeError: symbolic shape "
                         "inference failed")
    assert_runs_or_says_why(peer, inputs, expected_output(module, inputs))


def test_the_int8_peers_are_for_int8_builds_only():
    assert peers.for_precision("int8") == list(ALL)
    for precision in ("fp32", "bf16"):
        assert peers.for_precision(precision) == [name for name in ALL if name not in INT8_PEERS]
    assert set(INT8_PEERS) <= set(ALL) and set(INT8_PEERS) <= set(peers.ONNX_PEERS)


def test_a_model_given_as_onnx_gives_the_torch_peers_a_reason(tmp_path):
    module, inputs = linear_gelu()
    path = peers.export_onnx(module, inputs, tmp_path / "model.onnx")
    found = by_name(cpu_peers(1, inputs, onnx_path=path, names=("onnxruntime", "openvino-f32", "openvino",
                                                                 "torch.compile", "torch")))
    expected = expected_output(module, inputs)
    for name in ("onnxruntime", "openvino-f32", "openvino"):
        assert found[name].call is not None, found[name].reason
        assert_runs_or_says_why(found[name], inputs, expected)
    for name in ("torch.compile", "torch"):
        assert found[name].call is None and "ONNX" in found[name].reason


class Unexportable(torch.nn.Module):
    """A model the ONNX exporter refuses: an operator with no ONNX counterpart."""

    def forward(self, x):
        return torch.special.zeta(x, x + 1.0)


def test_a_model_onnx_cannot_export_gives_the_onnx_peers_a_reason_instead_of_raising():
    module = Unexportable().eval()
    inputs = [np.linspace(2.0, 3.0, 8, dtype=np.float32)]
    found = by_name(cpu_peers(1, inputs, module=module, model_type="bert",
                              names=("onnxruntime", "onnxruntime-fused", "openvino-f32", "openvino", "torch")))
    for name in ("onnxruntime", "onnxruntime-fused", "openvino-f32", "openvino"):
        assert found[name].call is None and found[name].reason.startswith("ONNX export failed: "), found[name]
        assert "\n" not in found[name].reason and len(found[name].reason) <= 200
    assert found["torch"].call is not None
    assert_runs_or_says_why(found["torch"], inputs, expected_output(module, inputs))


def test_a_first_call_that_fails_is_a_reason():
    module, inputs = linear_gelu()
    wrong = [np.zeros((4, 31), dtype=np.float32)]  # the model takes 32 features
    found = cpu_peers(1, wrong, module=module, names=("torch",))
    assert found[0].call is None and "\n" not in found[0].reason and found[0].reason.startswith("RuntimeError")


def test_an_unknown_peer_is_a_programming_error():
    module, inputs = linear_gelu()
    with pytest.raises(ValueError, match="unknown peers"):
        cpu_peers(1, inputs, module=module, names=("tensorflow",))


# --- threads -------------------------------------------------------------------------------------------------


def thread_cpu_seconds() -> dict[int, float]:
    """CPU seconds (user + system) of each thread of this process, by thread id (/proc/self/task)."""
    ticks = os.sysconf("SC_CLK_TCK")
    seconds = {}
    for task in Path("/proc/self/task").iterdir():
        try:
            fields = (task / "stat").read_text().rpartition(")")[2].split()
        except OSError:  # the thread ended meanwhile
            continue
        seconds[int(task.name)] = (int(fields[11]) + int(fields[12])) / ticks
    return seconds


def thread_use(call, inputs, seconds: float = 1.5) -> tuple[int, float, list[float]]:
    """(how many threads of this process worked while `call` ran back to back for ~`seconds`: those with at
    least a fifth of the busiest one's CPU seconds; CPU seconds / wall seconds of the process; each thread's CPU
    seconds, the largest first).

    The count, not CPU / wall, is what the thread test asserts: on this shared 2-core machine another process
    often holds a core, and then a peer correctly running two threads measured CPU / wall ~1.0 (the two threads
    shared one core), while each of its two threads still did a large share of the work. It also tells three
    threads from two on two cores, which CPU / wall cannot."""
    end = time.perf_counter() + 0.3  # warm up: thread pools started and spinning as they will be
    while time.perf_counter() < end:
        call(*inputs)
    before, cpu_before, wall_before = thread_cpu_seconds(), time.process_time(), time.perf_counter()
    while time.perf_counter() < wall_before + seconds:
        call(*inputs)
    cpu, wall, after = time.process_time() - cpu_before, time.perf_counter() - wall_before, thread_cpu_seconds()
    per_thread = sorted((after[tid] - before.get(tid, 0.0) for tid in after), reverse=True)
    return sum(s >= per_thread[0] / 5 for s in per_thread), cpu / wall, per_thread[:4]


class MatmulChain(torch.nn.Module):
    """Four 1024x1024 matmuls on a 128x1024 input: ~1 GFLOP a call, ample work for two threads."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.layers = torch.nn.Sequential(*(torch.nn.Linear(1024, 1024, bias=False) for _ in range(4)))

    def forward(self, x):
        return self.layers(x)


@pytest.mark.slow  # each peer set up and run for ~2 s on 1 and on 2 threads, torch.compile compiled twice: ~30 s
@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two cores")
def test_every_peer_runs_on_the_threads_it_is_given():
    module = MatmulChain().eval()
    inputs = [np.random.default_rng(0).standard_normal((128, 1024)).astype(np.float32)]
    measured = {}
    for name in ALL:
        for threads in (1, 2):
            [peer] = cpu_peers(threads, inputs, module=module, model_type="bert", names=(name,))
            assert peer.call is not None, peer.reason
            measured[name, threads] = thread_use(peer.call, inputs)
            del peer
            time.sleep(0.2)  # the pools of this peer stop spinning before the next one is measured
    print({key: (busy, round(per_wall, 2)) for key, (busy, per_wall, _) in measured.items()})
    wrong = {key: value for key, value in measured.items() if value[0] != key[1]}
    assert not wrong, f"(peer, threads asked): (threads that worked, CPU/wall, CPU s per thread): {wrong}"
