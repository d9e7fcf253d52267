"""`litecoop tune --time-budget`: the search stops on time, the report counts the trials the run measured and
what each task got (as its tuning database holds them), and the run's records seed the next run of the workload
unless `--fresh`. Real builds, real measurements, one small workload. (The final timing against peers is
`measure.final`'s, tested with it.)"""

import json
import statistics
import time
from collections import defaultdict

import pytest
from conftest import isolated_cache, run_cli

BUDGET_S = 15


def tune(cache, work_dir, report, *args, strategy="mcts"):
    """`litecoop tune` of small_workload:make (`strategy`, smoke search) with LITECOOP_CACHE=cache; returns
    (the report, seconds the process took)."""
    start = time.perf_counter()
    result = run_cli("tune", "--workload", "small_workload:make", "--strategy", strategy, "--search", "smoke",
                     "--no-peers", "--work-dir", str(work_dir), "--json", str(report), *args,
                     env={"LITECOOP_CACHE": str(cache)})
    elapsed = time.perf_counter() - start
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(report.read_text()), elapsed


def record_count(directory) -> int:
    return sum(1 for line in (directory / "database_tuning_record.json").read_text().splitlines() if line.strip())


def best_by_workload(directory) -> list[float]:
    """The best mean latency (s) of each workload (task) in the tuning database of `directory`, ascending; failed
    measurements (no run seconds, or MetaSchedule's 1e10 s) left out."""
    best = defaultdict(lambda: float("inf"))
    for line in (directory / "database_tuning_record.json").read_text().splitlines():
        if line.strip():
            workload, (_, run_secs, *_) = json.loads(line)
            if run_secs and max(run_secs) < 1e9:
                best[workload] = min(best[workload], statistics.mean(run_secs))
    return sorted(best.values())


@pytest.fixture(scope="module")
def budget_run(tmp_path_factory):
    """(report, process seconds, root) of a `--time-budget BUDGET_S` run with its own cache under root."""
    root = tmp_path_factory.mktemp("budget")
    report, elapsed = tune(isolated_cache(root / "cache"), root / "w", root / "report.json", "--time-budget", f"{BUDGET_S}s")
    return report, elapsed, root


@pytest.mark.slow  # real tunes under a time budget
def test_time_budget_stops_on_time(budget_run):
    """The search ends within 10% over the budget and at most one last trial's time (~2 s here) before it, and the
    report's trial counts and per-task bests are what the run's tuning database holds (a fresh cache: every record
    in it was measured by this run)."""
    report, elapsed, root = budget_run
    assert report["time_budget_s"] == BUDGET_S and report["trials"] is None
    # a trial that would not end inside the budget is not started (CI once measured 13.5 s of 15)
    assert 0.8 * BUDGET_S <= report["search_s"] <= 1.1 * BUDGET_S < elapsed
    assert report["trials_measured_this_run"] >= 8 and report["correct"]
    assert report["records_from_earlier_runs"] == 0
    assert record_count(root / "w") == report["trials_measured_this_run"]
    tasks = report["per_task"]
    assert len(tasks) == report["tasks"] >= 1
    assert sum(t["trials"] for t in tasks) == report["trials_measured_this_run"]
    assert all(t["trials"] > 0 for t in tasks)
    assert sorted(t["best_latency_s"] for t in tasks) == pytest.approx(best_by_workload(root / "w"), rel=1e-5)


@pytest.mark.slow  # real tunes under a time budget
def test_records_seed_the_next_run_unless_fresh(budget_run):
    first, _, root = budget_run
    earlier = record_count(root / "w")
    assert first["records_from_earlier_runs"] == 0 and earlier == first["trials_measured_this_run"]
    again, _ = tune(root / "cache", root / "again", root / "again.json", "--trials", "8")
    assert again["records_from_earlier_runs"] == earlier
    assert record_count(root / "again") >= earlier + 8  # the earlier records joined this run's database
    assert again["trials_measured_this_run"] >= 8  # they do not count against --trials
    fresh, _ = tune(root / "cache", root / "fresh", root / "fresh.json", "--trials", "8", "--fresh")
    assert fresh["records_from_earlier_runs"] == 0 and record_count(root / "fresh") < earlier + 8
    stores = list((root / "cache" / "records").iterdir())
    assert len(stores) == 1 and record_count(stores[0]) >= earlier + 8 + 8  # every run's records are kept


@pytest.mark.parametrize("budget", ["30", "5 minutes", "1.5.h", "1d", "0s"])
def test_bad_time_budget_is_one_line_exit_2(tmp_path, budget):
    result = run_cli("tune", "--workload", "small_workload:make", "--time-budget", budget, "--work-dir", str(tmp_path / "w"))
    assert result.returncode == 2 and "--time-budget" in result.stderr, result.stderr
    assert result.stderr.strip().count("\n") == 0, result.stderr


def test_an_ended_deadline_stops_every_strategy(matmul_context):
    """Ctrl-C or the budget's end: the tree strategies get no trials, TVM's own strategies (wrapped in
    BoundedSearch) propose nothing, so the task scheduler ends each task itself (ending tasks from the measure
    callback failed a check of the gradient scheduler at the end of a 30-minute MiniLM run)."""
    from tvm.s_tir import meta_schedule as ms

    from litecoop.measure import timing
    from litecoop.search.budget import BoundedSearch

    from tvm.s_tir.meta_schedule.runner import RunnerResult

    from litecoop.search.settings import SearchSettings
    from litecoop.search.tree_search import TreeSearch
    from synthetic import SyntheticCostModel, synthetic_latency_s

    context, spaces = matmul_context
    deadline = timing.Deadline(None)
    deadline.start()
    search = BoundedSearch(ms.search_strategy.ReplayTrace(), deadline)
    search._initialize_with_tune_context(context)
    search.pre_tuning(64, 4, spaces, None, None)
    tree = TreeSearch(lambda rng: None, SearchSettings(samples_per_sketch=4, cost_model_warmup_samples=0), 0,
                      deadline=deadline)
    tree._initialize_with_tune_context(context)
    tree.pre_tuning(64, 4, spaces, None, SyntheticCostModel())
    assert len(search.generate_measure_candidates()) == 4
    candidates = tree.generate_measure_candidates()
    assert candidates
    tree.notify_runner_results(candidates, [RunnerResult([synthetic_latency_s(c.sch)], None) for c in candidates])
    deadline.end()
    assert deadline.is_up() and deadline.trials_that_fit(16) == 0
    assert search.generate_measure_candidates() is None
    assert tree.generate_measure_candidates() is None


@pytest.mark.slow  # a real tune of TVM's random search under a budget
def test_tvms_own_strategy_stops_at_the_budget(tmp_path):
    report, elapsed = tune(isolated_cache(tmp_path / "cache"), tmp_path / "w", tmp_path / "report.json",
                           "--time-budget", f"{BUDGET_S}s", strategy="random")
    assert report["search_s"] < BUDGET_S * 1.1 + 5
