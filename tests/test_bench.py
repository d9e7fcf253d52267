"""The CI-sized benchmark: one kernel, two strategies, 10 seconds of search each, real measurements."""

import json
import statistics
from pathlib import Path

import pytest
from conftest import run_cli

from litecoop.report.history import best_latency_at, seconds_to_reach



def record_latencies(work_dir: Path) -> list[float]:
    """The mean latency (s) of every successful measurement in a run's tuning database."""
    latencies = []
    for line in (work_dir / "database_tuning_record.json").read_text().splitlines():
        if line.strip():
            _, (_, run_secs, *_) = json.loads(line)
            if run_secs and max(run_secs) < 1e9:
                latencies.append(statistics.mean(run_secs))
    return latencies


def test_history_queries():
    history = [(8, 3.0, 10.0), (16, 2.0, 20.0), (24, 2.5, 30.0)]
    assert best_latency_at(history, 16) == 2.0 and best_latency_at(history, 4) is None
    assert seconds_to_reach(history, 2.2) == 20.0 and seconds_to_reach(history, 1.0) is None


@pytest.mark.slow  # two real tunes under a time budget and the re-timing
def test_bench_at_a_time_budget_re_times_every_build_together_and_writes_report_and_plots(tmp_path):
    """`bench --time-budget`: every run searches for the budget (strategies at equal search time), not for a trial
    count; then every tuned build is timed again in one interleaved series, with one untuned build and the peers,
    and the report, its checkpoints (the trials the runs measured) and the plots are written."""
    budget = 10
    out = tmp_path / "bench"
    result = run_cli("bench", "--kernels", "flux_conv", "--strategies", "mcts,random", "--time-budget", f"{budget}s",
                     "--seeds", "1", "--search", "smoke", "--out", str(out))
    assert result.returncode == 0, result.stderr[-3000:]
    bench = json.loads((out / "bench.json").read_text())
    summary = bench["summary"]
    assert set(summary["strategies"]) == {"mcts", "random"}
    # every tuned build re-timed in one interleaved series after the runs, with one untuned build: one baseline
    (baseline,) = {run["baseline_latency_s"] for run in bench["runs"]}
    assert baseline > 0
    # ... and with onnxruntime and torch in that same series: one timing of each peer for every run
    (ort,) = {run["onnxruntime_latency_s"] for run in bench["runs"]}
    assert ort > 0 and len({run["torch_latency_s"] for run in bench["runs"]}) == 1
    assert all(run["tuned_over_onnxruntime"] == pytest.approx(run["final_latency_s"] / ort) for run in bench["runs"])
    for run in bench["runs"]:
        # the budget, not a trial count, ended the search (its precision is test_budget's; one batch may overrun a
        # budget this short); how many trials fit in it depends on the machine's load. The tree search sizes its
        # last batch to the time left and starts no trial that would not fit (so it may end one trial early); TVM's
        # random search ends once less than half of its fixed-size batch fits.
        assert run["time_budget_s"] == budget and run["trials"] is None
        earliest = 0.8 * budget if run["strategy"] == "mcts" else 0.5 * budget
        assert earliest <= run["search_s"] < 2 * budget and run["trials_measured_this_run"] >= 2, run["search_s"]
        # the re-timed build is the best schedule its search measured (any schedule beats the untuned build):
        # faster than the median schedule the search tried, and near the best one
        measured = record_latencies(Path(run["work_dir"]))  # (a trial may fail to build or run)
        assert len(measured) >= run["trials_measured_this_run"] // 2
        assert run["final_latency_s"] < statistics.median(measured), (run["final_latency_s"], sorted(measured))
        assert run["final_latency_s"] < 2 * min(measured), (run["final_latency_s"], min(measured))
    assert max(summary["checkpoints"]) <= max(run["trials_measured_this_run"] for run in bench["runs"])
    for strategy, stats in summary["strategies"].items():
        assert stats["correct"]
        assert 0 < stats["roofline_fraction"]["flux_conv"] < 1.0
        # at equal wall time, no better than the best latency the run measured at all (its last trials may lie
        # past the last checkpoint), nor worse than the untuned build
        (run,) = [run for run in bench["runs"] if run["strategy"] == strategy]
        best_ever = baseline / min(latency for _, latency, _ in run["history"] if latency > 0)
        (at_equal_wall,) = stats["speedup_at_equal_wall_by_seed"].values()
        assert 1.0 <= at_equal_wall <= best_ever * 1.0001, (at_equal_wall, best_ever)
    assert bench["provenance"]["commit"] != "unknown" and "bench" in bench["provenance"]["command"]
    assert "cores" in bench["provenance"]["machine"] and bench["provenance"]["versions"]["apache-tvm"]
    assert summary["peak_flops"] > 1e9 and summary["memory_bandwidth_Bps"] > 1e9
    assert "flux_conv" in (out / "bench.md").read_text()
    for name in ("bench.md", "speedup_vs_trials.png", "speedup_vs_seconds.png", "llm_compute.png"):
        assert (out / name).stat().st_size > 0


def bench_run(workload: str, strategy: str, seed: int, speedup: float) -> dict:
    """A finished `litecoop bench` run as its log keeps it (a tune report), `speedup` times faster than its
    untuned build all along; its library is gone, so `--report-only` cannot re-time it."""
    untuned = 0.01
    tuned = untuned / speedup
    return {"workload": workload, "workload_spec": workload, "target": "llvm", "strategy": strategy, "trials": 32,
            "seed": seed, "untuned_latency_s": untuned, "tuned_latency_s": tuned, "tuned_samples_s": [tuned] * 10,
            "speedup": speedup, "correct": True, "max_abs_error": 0.0, "trials_measured_this_run": 32,
            "history": [(16, tuned, 10.0), (32, tuned, 20.0)], "wall_s": 30.0, "work_dir": "gone", "library": ""}


def test_report_only_reports_the_finished_seeds(tmp_path, monkeypatch):
    """`--report-only` over a 2-seed log whose seed 1 lost a run: it tunes nothing, reports seed 0 alone (its
    runs are 2x faster than untuned, seed 1's 100x: none of those may leak in) and says so; over an empty log it
    is a one-line error. (The machine's roofline is given: measuring it waits for an idle machine.)"""
    from litecoop.measure import roofline
    from litecoop.workload import KERNELS

    limits = {"peak_flops": 1e11, "memory_bandwidth_Bps": 1e10, "load": 0.0}
    monkeypatch.setattr(roofline, "machine_limits", lambda *args, **kwargs: dict(limits), raising=False)
    monkeypatch.setattr(roofline, "peak_flops", lambda *args, **kwargs: limits["peak_flops"])
    monkeypatch.setattr(roofline, "memory_bandwidth", lambda *args, **kwargs: limits["memory_bandwidth_Bps"])
    strategies = ["mcts", "litecoop"]
    runs = [bench_run(workload, strategy, seed, 2.0 if seed == 0 else 100.0)
            for seed in (0, 1) for workload in KERNELS for strategy in strategies]
    del runs[len(KERNELS) * len(strategies) + 1]  # seed 1 lost a run
    log = "".join(json.dumps(run) + "\n" for run in runs)
    (tmp_path / "runs.jsonl").write_text(log)
    command = ["bench", "--report-only", "--strategies", ",".join(strategies), "--seeds", "2", "--trials", "32"]
    result = run_cli(*command, "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "seed 0 " not in result.stderr and (tmp_path / "runs.jsonl").read_text() == log, "nothing is tuned"
    assert "Interim report: seeds 0 of 2" in (tmp_path / "bench.md").read_text()
    bench = json.loads((tmp_path / "bench.json").read_text())
    assert {run["seed"] for run in bench["runs"]} == {0} and len(bench["runs"]) == len(KERNELS) * len(strategies)
    for strategy in strategies:
        stats = bench["summary"]["strategies"][strategy]
        assert stats["final_speedup_by_seed"] == {"0": pytest.approx(2.0)}
        assert stats["speedup_at_by_seed"]["32"] == {"0": pytest.approx(2.0)}
    result = run_cli(*command, "--out", str(tmp_path / "empty"))
    assert result.returncode == 2 and "nothing to report yet" in result.stderr
    assert result.stderr.strip().count("\n") == 0, result.stderr
