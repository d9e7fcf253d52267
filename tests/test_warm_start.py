"""Warm start from a similar shape: decisions moved onto another loop extent stay legal and nearest, and
`litecoop tune --warm-start` measures the moved records of an earlier run first."""

import pytest
import json
import math

from tvm.s_tir import meta_schedule as ms
from tvm.s_tir.meta_schedule import TuneContext
from tvm.s_tir.schedule import Trace

from conftest import build_matmul_context, run_cli
from litecoop.measure.cost_model import TimedXGBModel
from litecoop.search.space import decisions_key, factorizations, log_distance, replay, skeleton, transfer
from litecoop.targets import load_target
from litecoop import records
from litecoop.presets import PRESETS_DIR
from litecoop.records import warm_start_records


def tiles(trace) -> list[list[int]]:
    return [[int(x) for x in trace.decisions[inst]] for inst in trace.insts
            if inst.kind.name == "SamplePerfectTile" and inst in trace.decisions]


def test_transfer_relegalizes_tiles_for_the_new_extent(target, matmul_context):
    context16, spaces16 = matmul_context
    context48 = build_matmul_context(target, 48)
    spaces48 = context48.generate_design_space()
    postprocs = list(context48.space_generator.postprocs)
    moved_any = False
    for old in spaces16:
        sketch = next((s for s in spaces48 if skeleton(s.trace) == skeleton(old.trace)), None)
        assert sketch is not None, "the same operator at another shape has the same sketches"
        moved = transfer(old.trace, sketch.trace)
        assert replay(moved, context48.mod, postprocs) is not None
        for before, after, extent in zip(tiles(old.trace), tiles(moved), map(math.prod, tiles(sketch.trace))):
            assert math.prod(after) == extent
            if math.prod(before) == extent:
                assert after == before
            else:
                moved_any = True
                nearest = min(log_distance(v, before) for v in factorizations(extent, len(before), extent))
                assert log_distance(after, before) == nearest
    assert moved_any
    assert transfer(spaces16[0].trace, Trace([], {})) is None


@pytest.mark.slow  # a real tune
def test_tune_measures_warm_started_records_first(tmp_path, small_mcts_run):
    source, target = small_mcts_run[0], tmp_path / "target"
    warm = run_cli("tune", "--workload", "small_workload:make_taller", "--strategy", "mcts", "--trials", "8",
                   "--search", "smoke", "--no-peers", "--work-dir", str(target), "--warm-start", str(source),
                   "--json", str(tmp_path / "report.json"))
    assert warm.returncode == 0, warm.stderr[-2000:]
    assert json.loads((tmp_path / "report.json").read_text())["warm_start"] == str(source)

    measured = ms.database.JSONDatabase(work_dir=str(target)).get_all_tuning_records()
    sketches = {skeleton(r.trace): r.trace for r in measured}
    expected = {decisions_key(transfer(record.trace, sketches[skeleton(record.trace)]))
                for record in warm_start_records(source) if skeleton(record.trace) in sketches}
    first_round = {decisions_key(r.trace) for r in measured}
    assert len(first_round & expected) >= 4, "most of the first round comes from the source's records"

    model = TimedXGBModel(warmup_samples=8)
    records = warm_start_records(source)
    # 16 trials of the matmul task, and any of the task the library path leaves (compiler.extract_tasks)
    assert model.pretrain(records, load_target("host")) == len(records) >= 16
    context = TuneContext(mod=records[0].workload.mod, target=load_target("host"), num_threads=2)
    candidates = [record.as_measure_candidate() for record in records]
    scores = model.predict(context, candidates)
    assert list(scores) == list(model.predict(context, candidates)), "trained scores, not warm-up noise"

    refused = run_cli("tune", "--workload", "small_workload:make_taller", "--strategy", "evolutionary",
                      "--trials", "8", "--work-dir", str(tmp_path / "e"), "--warm-start", str(source))
    assert refused.returncode == 2 and "--warm-start works with" in refused.stderr
    refused = run_cli("tune", "--workload", "small_workload:make_taller", "--trials", "8",
                      "--work-dir", str(tmp_path / "m"), "--warm-start", str(tmp_path / "nothing"))
    assert refused.returncode == 2 and "no tuning database" in refused.stderr


@pytest.mark.slow  # two real tunes
def test_a_new_shape_starts_from_the_stores_records_of_another(tmp_path, small_mcts_run, target):
    store = records.store_dir(target)
    records.keep(small_mcts_run[0], store)  # the store holds a 64x128x96 matmul's records; make_taller is 128x128x80
    reports = {}
    for name, extra in (("store", ()), ("fresh", ("--fresh",))):
        run = run_cli("tune", "--workload", "small_workload:make_taller", "--strategy", "mcts", "--trials", "8",
                      "--search", "smoke", "--no-peers", "--work-dir", str(tmp_path / name),
                      "--json", str(tmp_path / f"{name}.json"), *extra)
        assert run.returncode == 0, run.stderr[-2000:]
        reports[name] = json.loads((tmp_path / f"{name}.json").read_text())
    assert reports["store"]["lineages"]["warm-start"]["own_measured"] >= 2
    assert "warm-start" not in reports["fresh"]["lineages"], "--fresh ignores the store"

    measured = ms.database.JSONDatabase(work_dir=str(tmp_path / "store")).get_all_tuning_records()
    sketches = {skeleton(r.trace): r.trace for r in measured}
    moved = {decisions_key(transfer(record.trace, sketches[skeleton(record.trace)]))
             for record in records.store_warm_start(store) if skeleton(record.trace) in sketches}
    assert moved & {decisions_key(r.trace) for r in measured}, "the moved records are among the trials"


@pytest.mark.slow  # a real tune
def test_a_task_starts_from_the_best_schedule_of_a_task_of_the_same_run_with_the_same_sketch(tmp_path):
    report, preset = tmp_path / "report.json", tmp_path / "moves.toml"
    preset.write_text((PRESETS_DIR / "search" / "smoke.toml").read_text() + "\nmoves_between_tasks_per_iter = 1\n")
    run = run_cli("tune", "--workload", "small_workload:make_two_layers", "--strategy", "mcts", "--trials", "32",
                  "--search", str(preset), "--no-peers", "--work-dir", str(tmp_path / "w"), "--json", str(report))
    assert run.returncode == 0, run.stderr[-2000:]
    assert len(json.loads(report.read_text())["per_task"]) == 2  # rounds of 8: each task's second round moves one
    moved = json.loads(report.read_text())["lineages"]["other-task"]
    assert moved["own_measured"] >= 1, "a task measured the other one's best, moved to its shape"


def warm_bench_run(mode: str, seed: int, workload: str, history: list[tuple[int, float, float]]) -> dict:
    """A finished run of `bench-warm` as its log keeps it (a tune report; no library left, so it is not re-timed)."""
    return {"workload": workload, "workload_spec": f"examples.warm_start.ffn:{workload}", "target": "llvm",
            "strategy": "mcts", "trials": 64, "seed": seed, "mode": mode, "untuned_latency_s": 0.1,
            "tuned_latency_s": history[-1][1], "tuned_samples_s": [history[-1][1]] * 10, "speedup": 0.1 / history[-1][1],
            "correct": True, "max_abs_error": 0.0, "wall_s": 60.0, "work_dir": "gone", "history": history}


def test_bench_warm_resumes_from_its_log_and_reports(tmp_path):
    """`bench-warm` over a log that holds every run: nothing is tuned again; per seed, the report gives the trials
    and seconds cold and warm took to reach the cold run's final best latency and 95% of its speedup, "never"
    where a run did not."""
    ms_ = 1e-3
    runs = [warm_bench_run("source", 0, "tokens_64", [(16, 2.0 * ms_, 10.0), (64, 1.5 * ms_, 40.0)]),
            # seed 0: cold ends at 3.0 ms (95% of its speedup: 3.158 ms); warm is there at 32 trials (95%: 16)
            warm_bench_run("cold", 0, "tokens_128", [(16, 4.0 * ms_, 10.0), (32, 3.5 * ms_, 20.0),
                                                     (48, 3.2 * ms_, 30.0), (64, 3.0 * ms_, 40.0)]),
            warm_bench_run("warm", 0, "tokens_128", [(16, 3.1 * ms_, 8.0), (32, 2.9 * ms_, 16.0),
                                                     (48, 2.9 * ms_, 24.0), (64, 2.8 * ms_, 32.0)]),
            # seed 1: cold ends at 2.5 ms, reached at 48; warm never gets there, but within 95% at 48 (2.6 ms)
            warm_bench_run("cold", 1, "tokens_128", [(16, 3.0 * ms_, 10.0), (32, 2.8 * ms_, 20.0),
                                                     (48, 2.5 * ms_, 30.0), (64, 2.5 * ms_, 40.0)]),
            warm_bench_run("warm", 1, "tokens_128", [(16, 2.7 * ms_, 8.0), (32, 2.7 * ms_, 16.0),
                                                     (48, 2.6 * ms_, 24.0), (64, 2.6 * ms_, 32.0)])]
    (tmp_path / "warm_runs.jsonl").write_text("".join(json.dumps(run) + "\n" for run in runs))
    result = run_cli("bench-warm", "--out", str(tmp_path), "--seeds", "2", "--trials", "64")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "seed 0" not in result.stderr and "source" not in result.stderr.split("wrote")[0], "every run was in the log"
    assert len((tmp_path / "warm_runs.jsonl").read_text().splitlines()) == 5
    summary = json.loads((tmp_path / "warm.json").read_text())["summary"]
    first, second = summary["seeds"]
    assert (first["seed"], first["cold_best_s"], second["seed"], second["cold_best_s"]) == (0, 3.0 * ms_, 1, 2.5 * ms_)
    assert first["100%"] == {"cold_trials": 64, "cold_seconds": 40.0, "warm_trials": 32, "warm_seconds": 16.0}
    assert first["95%"] == {"cold_trials": 64, "cold_seconds": 40.0, "warm_trials": 16, "warm_seconds": 8.0}
    assert second["100%"] == {"cold_trials": 48, "cold_seconds": 30.0, "warm_trials": None, "warm_seconds": None}
    assert second["95%"] == {"cold_trials": 48, "cold_seconds": 30.0, "warm_trials": 48, "warm_seconds": 24.0}
    rows = [[cell.strip() for cell in line.split("|")[1:-1]] for line in (tmp_path / "warm.md").read_text().splitlines()
            if line.startswith("|")]
    assert ["1", "2.500", "48", "never", "30", "never", "48", "48"] in rows
    assert (tmp_path / "warm_speedup_vs_trials.png").stat().st_size > 10_000
