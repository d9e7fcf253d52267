"""`litecoop yardstick`: a suite's models tuned and timed against every peer in a fresh process, one table."""

import json

import pytest

from conftest import run_cli
from litecoop.bench.yardstick import PEER_ORDER, markdown, suite_workloads
from litecoop.errors import UserError
from litecoop.measure.contest import Contender
from litecoop.report.tune_report import TuneReport


def test_the_zoo_suite_leaves_out_ci_sized_models_unless_named():
    zoo = suite_workloads("zoo")
    assert "zoo:bert_base" in zoo and "zoo:bert_ci" not in zoo
    assert suite_workloads("zoo", ["bert_ci"]) == ["zoo:bert_ci"]
    with pytest.raises(UserError, match="not in suite 'zoo': nope"):
        suite_workloads("zoo", ["nope"])


def _report(name: str, tuned_s: float, peers: dict) -> TuneReport:
    timings = [Contender(name=n, latency_s=s, reason=None if s else "cannot export") for n, s in peers.items()]
    best = min((p for p in timings if p.latency_s), key=lambda p: p.latency_s)
    return TuneReport(workload=name, workload_spec=name, target="llvm", strategy="mcts", untuned_latency_s=1.0,
                      tuned_latency_s=tuned_s, tuned_samples_s=[tuned_s], speedup=1.0 / tuned_s, correct=True,
                      max_abs_error=0.0, wall_s=1.0, work_dir="w", peers=timings, best_peer=best.name,
                      tuned_over_best_peer=tuned_s / best.latency_s, trials_measured_this_run=42,
                      provenance={"commit": f"c0ffee{name[-1]}"})


def test_the_table_shows_every_peer_its_reason_and_every_failure():
    runs = [_report("zoo:a", 0.002, {"onnxruntime": 0.004, "torch": None}),
            _report("zoo:b", 0.008, {"onnxruntime": 0.004, "torch": 0.016})]
    text = markdown(runs, [{"workload": "zoo:c", "error": "the final build failed: boom"}])
    rows = {line.split("|")[1].strip(): line for line in text.splitlines() if line.startswith("| zoo:")}
    assert "0.50 (onnxruntime)" in rows["zoo:a"] and "2.00 (onnxruntime)" in rows["zoo:b"]
    assert "n/a [1]" in rows["zoo:a"] and "[1] torch: cannot export" in text
    assert "| 42 " in rows["zoo:a"] and "c0ffeea" in rows["zoo:a"] and "c0ffeeb" in rows["zoo:b"]  # rows of other runs
    assert "failed" in rows["zoo:c"] and "failed: zoo:c: the final build failed: boom" in text
    assert "Geomean tuned / best float32 peer over 2 models: 1.00; faster than the best peer on 1 of 2." in text


@pytest.mark.slow
def test_a_small_zoo_model_in_10_seconds_against_every_peer(tmp_path):
    """CI's small version of the zoo table: the CI-sized BERT, 10 seconds of search, every peer present or its
    reason shown, the tuned output correct on fresh inputs."""
    out = tmp_path / "zoo"
    result = run_cli("yardstick", "--suite", "zoo", "--only", "bert_ci", "--time-budget", "10s", "--out", str(out))
    assert result.returncode == 0, result.stderr[-3000:]
    run = json.loads((out / "yardstick.json").read_text())["runs"][0]
    assert run["correct"]
    assert [p["name"] for p in run["peers"]] == list(("onnxruntime", "onnxruntime-fused", "openvino-f32", "openvino",
                                                      "torch.compile", "torch"))
    for peer in run["peers"]:
        assert (peer["latency_s"] is not None) != (peer["reason"] is not None), peer
    ran_fp32 = [p for p in run["peers"] if p["latency_s"] and p["precision"] == "fp32"]
    assert run["best_peer"] == min(ran_fp32, key=lambda p: p["latency_s"])["name"]  # bf16 is shown, not the yardstick
    table = (out / "yardstick.md").read_text()
    assert all(f"{name} ms" in table for name in PEER_ORDER[:-1]) and "bert_ci" in table
    assert json.loads((out / "claims.json").read_text())[0]["command"].startswith("litecoop yardstick")
