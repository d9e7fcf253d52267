"""The CI-sized benchmark: one kernel, two strategies, 16 trials, real measurements."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from litecoop.report.history import best_latency_at, seconds_to_reach

ROOT = Path(__file__).resolve().parent.parent


def test_history_queries():
    history = [(8, 3.0, 10.0), (16, 2.0, 20.0), (24, 2.5, 30.0)]
    assert best_latency_at(history, 16) == 2.0 and best_latency_at(history, 4) is None
    assert seconds_to_reach(history, 2.2) == 20.0 and seconds_to_reach(history, 1.0) is None


@pytest.mark.slow  # two real tunes and the re-timing
def test_bench_smoke_writes_report_and_plots(tmp_path):
    out = tmp_path / "bench"
    result = subprocess.run([sys.executable, "-m", "litecoop.cli", "bench", "--kernels", "flux_conv",
                             "--strategies", "mcts,evolutionary", "--trials", "16", "--seeds", "1",
                             "--search", "smoke", "--out", str(out)], capture_output=True, text=True, timeout=1500)
    assert result.returncode == 0, result.stderr[-3000:]
    bench = json.loads((out / "bench.json").read_text())
    summary = bench["summary"]
    assert set(summary["strategies"]) == {"mcts", "evolutionary"}
    # every tuned build re-timed in one interleaved series after the runs, with one untuned build: one baseline
    (baseline,) = {run["baseline_latency_s"] for run in bench["runs"]}
    for run in bench["runs"]:
        assert run["final_latency_s"] > 0
        assert run["final_speedup"] == pytest.approx(baseline / run["final_latency_s"])
    for stats in summary["strategies"].values():
        assert stats["correct"] and stats["final_speedup_mean_over_seeds"] > 1.0
        assert 0 < stats["roofline_fraction"]["flux_conv"] < 1.0
        (at_equal_wall,) = stats["speedup_at_equal_wall_by_seed"].values()
        assert 1.0 <= at_equal_wall <= max(stats["speedup_at_by_seed"]["16"].values()) * 1.0001
    assert bench["provenance"]["commit"] != "unknown" and "bench" in bench["provenance"]["command"]
    assert "cores" in bench["provenance"]["machine"] and bench["provenance"]["versions"]["apache-tvm"]
    assert summary["peak_flops"] > 1e9 and summary["memory_bandwidth_Bps"] > 1e9
    for run in bench["runs"]:  # kernels get their peers too, timed in alternation with the tuned build
        assert run["tuned_over_onnxruntime"] == pytest.approx(run["tuned_latency_s"] / run["onnxruntime_latency_s"])
        assert run["torch_latency_s"] > 0
    row = next(line for line in (out / "bench.md").read_text().splitlines()
               if line.startswith("|") and line.split("|")[1].strip() == "flux_conv")
    cells = [cell.strip() for cell in row.split("|")[1:-1]]
    assert len(cells) == 1 + 2 + 2  # workload, one tuned / onnxruntime cell per strategy, the roofline bound
    assert cells[3].startswith(("compute, ", "memory, ")) and 0 < float(cells[4].rstrip("%")) <= 150
    for name in ("bench.md", "speedup_vs_trials.png", "speedup_vs_seconds.png", "llm_compute.png", "vs_onnxruntime.png"):
        assert (out / name).stat().st_size > 0


@pytest.mark.slow  # a real tune under a time budget, and the re-timing
def test_bench_with_a_time_budget_gives_each_run_the_budget(tmp_path):
    """`bench --time-budget`: every run searches for the budget (strategies at equal search time), not for a
    trial count, and the report's checkpoints follow the trials the runs measured."""
    out = tmp_path / "bench"
    result = subprocess.run([sys.executable, "-m", "litecoop.cli", "bench", "--kernels", "flux_conv",
                             "--strategies", "mcts", "--time-budget", "15s", "--seeds", "1", "--search", "smoke",
                             "--out", str(out)], capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    bench = json.loads((out / "bench.json").read_text())
    (run,) = bench["runs"]
    assert run["time_budget_s"] == 15 and run["trials"] is None
    # the budget ended the search (its precision is test_budget's; one batch may overrun a budget this short)
    assert 0.9 * 15 <= run["search_s"] < 2 * 15 and run["trials_measured_this_run"] >= 8
    assert max(bench["summary"]["checkpoints"]) <= run["trials_measured_this_run"]
    assert "flux_conv" in (out / "bench.md").read_text()


def test_report_only_reports_the_finished_seeds(tmp_path):
    """`--report-only` over a committed 2-seed log whose seed 1 lost a run: it tunes nothing, reports seed 0
    alone and says so; over an empty log it is a one-line error."""
    lines = [json.loads(line) for line in (ROOT / "results" / "bench-llm-v2" / "runs.jsonl").read_text().splitlines()]
    dropped = next(i for i, run in enumerate(lines) if run["seed"] == 1)
    kept = [{**run, "library": ""} for i, run in enumerate(lines) if i != dropped]  # no re-timing: libraries gone
    (tmp_path / "runs.jsonl").write_text("".join(json.dumps(run) + "\n" for run in kept))
    command = [sys.executable, "-m", "litecoop.cli", "bench", "--report-only", "--strategies", "mcts,litecoop",
               "--seeds", "2", "--out", str(tmp_path)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "seed 0 " not in result.stderr, "nothing is tuned"
    assert "Interim report: seeds 0 of 2" in (tmp_path / "bench.md").read_text()
    bench = json.loads((tmp_path / "bench.json").read_text())
    assert {run["seed"] for run in bench["runs"]} == {0} and len(bench["runs"]) == 10
    assert set(bench["summary"]["strategies"]["mcts"]["final_speedup_by_seed"]) == {"0"}
    empty = tmp_path / "empty"
    result = subprocess.run(command[:-1] + [str(empty)], capture_output=True, text=True, timeout=600)
    assert result.returncode == 2 and "nothing to report yet" in result.stderr
    assert result.stderr.strip().count("\n") == 0, result.stderr
