"""The final timing: contenders alternated in a shuffled order and timed alike, and the contest in a fresh
process (real peers, a real child process)."""

import json
import time

import cloudpickle
import numpy as np
import pytest
import torch

from litecoop.errors import UserError
from litecoop.measure.contest import ContestRequest, ContestResult, fresh_inputs, run_fresh
from litecoop.measure.timing import time_contenders
from litecoop.measure.peers import ALL


def recording(name: str, log: list):
    """A contender that records (its name, the arrays it was given) and returns its first input."""

    def call(*arrays):
        log.append((name, arrays))
        return arrays[0]

    return call


def test_contenders_alternate_in_a_shuffled_order_on_the_same_inputs():
    log: list = []
    names = ["tuned", "onnxruntime", "torch"]
    inputs = [np.ones(3, dtype=np.float32), np.zeros(2, dtype=np.int64)]
    samples = time_contenders({name: recording(name, log) for name in names}, inputs, repeat=8, seed=3,
                              sample_s=0.0, settle_s=0.0)  # one call a sample, no settling calls: a call is a sample
    assert list(samples) == names and all(len(series) == 8 for series in samples.values())
    assert all(s >= 0 for series in samples.values() for s in series)
    assert all(arrays[0] is inputs[0] and arrays[1] is inputs[1] and len(arrays) == 2 for _, arrays in log)
    measured = [name for name, _ in log[2 * len(names):]]  # after each one's two sizing calls
    rounds = [tuple(measured[i:i + len(names)]) for i in range(0, len(measured), len(names))]
    assert len(rounds) == 8 and all(sorted(order) == sorted(names) for order in rounds)
    assert len(set(rounds)) > 1, rounds  # shuffled anew each round
    again: list = []
    time_contenders({name: recording(name, again) for name in names}, inputs, repeat=8, seed=3, sample_s=0.0,
                    settle_s=0.0)
    assert [name for name, _ in again] == [name for name, _ in log]  # seeded


def test_each_sample_is_preceded_by_settling_calls_of_the_same_contender():
    log: list = []
    time_contenders({"a": recording("a", log), "b": recording("b", log)}, [np.ones(1)], repeat=3, sample_s=0.0,
                    settle_s=0.01)
    runs = [name for i, (name, _) in enumerate(log) if i == 0 or log[i - 1][0] != name]
    assert len(log) > 4 + 6 * 2  # many settling calls per sample
    assert len(runs) >= 2 + 3  # the sizing calls, then at least one switch a round


def test_a_contender_twice_as_slow_by_construction_measures_about_twice_as_slow():
    a = np.random.default_rng(0).standard_normal(1 << 14)  # elementwise NumPy: one thread, no BLAS pool to wait on

    def once(x):
        return np.tanh(x)

    def twice(x):
        np.tanh(x)
        return np.tanh(x)

    samples = time_contenders({"once": once, "twice": twice}, [a], repeat=15, sample_s=0.05, settle_s=0.02)
    # the ratio within each round (the two samples are taken moments apart, so load from other processes hits
    # both), then its median over rounds: on a busy 2-core machine the ratio of the medians ranged 1.4-2.4
    ratio = float(np.median(np.divide(samples["twice"], samples["once"])))
    assert 1.5 < ratio < 2.6, (ratio, samples)


def test_a_contender_that_sleeps_5_ms_measures_5_ms():
    """The ratio test above cannot see an error that scales every contender alike (the clock started before the
    settling calls measured 1.4x): a call that sleeps 5 ms measures 5 ms, within the sleep's overshoot."""
    calls = {name: lambda x: time.sleep(0.005) for name in ("sleep", "sleep again")}
    samples = time_contenders(calls, [np.zeros(4)], repeat=5, sample_s=0.05, settle_s=0.02)
    assert all(0.005 <= float(np.median(values)) < 0.0065 for values in samples.values()), samples


def test_fresh_inputs_keep_shapes_dtypes_and_ranges():
    floats = np.random.default_rng(0).standard_normal((64, 8)).astype(np.float32) * 3 + 10
    ids = np.array([[5, 9, 7, 6]], dtype=np.int64)
    mask = np.ones((1, 4), dtype=np.int64)
    new = fresh_inputs([floats, ids, mask])
    assert [(x.shape, x.dtype) for x in new] == [(floats.shape, floats.dtype), (ids.shape, ids.dtype), (mask.shape, mask.dtype)]
    assert not np.array_equal(new[0], floats) and abs(new[0].mean() - 10) < 1 and 2 < new[0].std() < 4
    assert new[1].min() >= 5 and new[1].max() <= 9 and (new[2] == 1).all()


class TinyNet(torch.nn.Module):
    """A module whose class lives in this test file: the fresh process imports it through the inherited path."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.first, self.second = torch.nn.Linear(32, 64), torch.nn.Linear(64, 16)

    def forward(self, x):
        return self.second(torch.nn.functional.gelu(self.first(x)))


@pytest.mark.slow  # a fresh process importing torch, onnxruntime and OpenVINO, and torch.compile: ~40 s
def test_run_fresh_returns_every_peer_or_its_reason_and_the_reference(tmp_path):
    model = tmp_path / "model.pkl"
    model.write_bytes(cloudpickle.dumps(TinyNet().eval()))
    inputs = tmp_path / "inputs.npz"
    np.savez(inputs, np.random.default_rng(0).standard_normal((4, 32)).astype(np.float32))
    request = ContestRequest(tuned=None, model_pickle=str(model), onnx=None, inputs=str(inputs), model_type=None,
                             threads=1, repeat=3)
    result = run_fresh(request, tmp_path / "work")
    assert isinstance(result, ContestResult) and result.reference == "torch" and result.threads == 1
    found = result.by_name()
    assert list(found) == list(ALL)
    assert found["onnxruntime-fused"].reason == "no transformer model type (bert, gpt2, vit) for this model"
    for contender in found.values():
        if contender.reason is not None:
            assert "\n" not in contender.reason and contender.latency_s is None
            continue
        assert len(contender.samples_s) == 3 and contender.latency_s > 0 and contender.setup_s > 0
        tolerance = 1e-4 if contender.precision == "fp32" else 5e-2
        assert contender.max_abs_error <= tolerance, contender
    for name in ("onnxruntime", "openvino-f32", "torch"):
        assert found[name].reason is None, found[name].reason
    assert found["torch"].max_abs_error == 0.0
    assert json.loads((tmp_path / "work" / "contest-request.json").read_text())["threads"] == 1
    print({c.name: (c.precision, c.latency_s, c.max_abs_error, c.reason) for c in result.contenders})


def tuned_matmul(directory, weight: np.ndarray):
    """A litecoop artifact of `x @ weight` for x of shape (4, rows of weight), float32: an untuned TVM build."""
    from tvm import relax
    from tvm.script import relax as R

    from litecoop import artifact

    builder = relax.BlockBuilder()
    x = relax.Var("x", R.Tensor((4, weight.shape[0]), "float32"))
    with builder.function("main", [x]):
        with builder.dataflow():
            out = builder.emit_output(builder.emit(relax.op.matmul(x, relax.const(weight))))
        builder.emit_func_output(out)
    manifest = artifact.Manifest(workload="matmul", target="llvm", threads=1, builds=[artifact.Build(
        library="tuned-0.so", sha256="", inputs=[artifact.InputSpec(name="x", shape=[4, weight.shape[0]], dtype="float32")])])
    return artifact.save(directory, manifest, [relax.build(builder.get(), target="llvm")])


def test_run_fresh_times_a_tuned_build_against_the_peers_and_checks_it(tmp_path):
    weight = np.random.default_rng(0).standard_normal((32, 16)).astype(np.float32)
    module = torch.nn.Linear(32, 16, bias=False).eval()
    with torch.no_grad():
        module.weight.copy_(torch.from_numpy(weight.T))
    (tmp_path / "model.pkl").write_bytes(cloudpickle.dumps(module))
    np.savez(tmp_path / "inputs.npz", np.random.default_rng(1).standard_normal((4, 32)).astype(np.float32))
    request = ContestRequest(tuned=str(tuned_matmul(tmp_path / "model.tuned", weight)),
                             model_pickle=str(tmp_path / "model.pkl"), onnx=None, inputs=str(tmp_path / "inputs.npz"),
                             model_type=None, threads=1, repeat=3, peers=["onnxruntime", "torch"])
    result = run_fresh(request, tmp_path / "work")
    assert [c.name for c in result.contenders] == ["tuned", "onnxruntime", "torch"] and result.reference == "torch"
    for contender in result.contenders:
        assert contender.reason is None, contender.reason
        assert contender.max_abs_error < 1e-4 and len(contender.samples_s) == 3 and contender.latency_s > 0


def test_without_peers_a_build_is_still_checked_against_torch(tmp_path):
    weight = np.random.default_rng(0).standard_normal((32, 16)).astype(np.float32)
    module = torch.nn.Linear(32, 16, bias=False).eval()
    with torch.no_grad():
        module.weight.copy_(torch.from_numpy(-weight.T))  # the build computes x @ weight: wrong by 2 |x @ weight|
    (tmp_path / "model.pkl").write_bytes(cloudpickle.dumps(module))
    np.savez(tmp_path / "inputs.npz", np.random.default_rng(1).standard_normal((4, 32)).astype(np.float32))
    request = ContestRequest(tuned=str(tuned_matmul(tmp_path / "model.tuned", weight)),
                             model_pickle=str(tmp_path / "model.pkl"), inputs=str(tmp_path / "inputs.npz"),
                             threads=1, repeat=2, peers=[])
    result = run_fresh(request, tmp_path / "work")
    assert [c.name for c in result.contenders] == ["tuned"] and result.reference == "torch"
    assert result.contenders[0].max_abs_error > 1.0 and result.contenders[0].cosine < -0.99


def test_a_tuned_build_that_cannot_load_is_a_contender_with_a_reason(tmp_path):
    (tmp_path / "model.pkl").write_bytes(cloudpickle.dumps(torch.nn.Linear(8, 4).eval()))
    np.savez(tmp_path / "inputs.npz", np.ones((2, 8), dtype=np.float32))
    request = ContestRequest(tuned=str(tmp_path / "nothing.tuned"), model_pickle=str(tmp_path / "model.pkl"),
                             inputs=str(tmp_path / "inputs.npz"), threads=1, repeat=2, peers=["torch"])
    found = run_fresh(request, tmp_path / "work").by_name()
    assert found["tuned"].latency_s is None and "manifest.json is missing" in found["tuned"].reason
    assert found["torch"].reason is None and found["torch"].max_abs_error == 0.0


def test_a_request_whose_inputs_file_is_missing_raises_a_one_line_user_error(tmp_path):
    request = ContestRequest(tuned=None, model_pickle=None, onnx=None, inputs=str(tmp_path / "nowhere.npz"),
                             model_type=None, threads=1)
    with pytest.raises(UserError) as raised:
        run_fresh(request, tmp_path / "work")
    assert "\n" not in str(raised.value) and "nowhere.npz does not exist" in str(raised.value)


def test_a_request_naming_an_unknown_peer_is_refused():
    with pytest.raises(ValueError, match="unknown peers"):
        ContestRequest(inputs="x.npz", threads=1, peers=["tensorflow"])
