"""Warm start from a similar shape: decisions moved onto another loop extent stay legal and nearest, and
`litecoop tune --warm-start` measures the moved records of an earlier run first."""

import pytest
import json
import math

from tvm.s_tir import meta_schedule as ms
from tvm.s_tir.meta_schedule import TuneContext
from tvm.s_tir.schedule import Trace

from conftest import TESTS, build_matmul_context, run_litecoop
from litecoop.measure.cost_model import TimedXGBModel
from litecoop.search.space import decisions_key, factorizations, log_distance, replay, skeleton, transfer
from litecoop.targets import load_target
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
    warm = run_litecoop("tune", "--workload", "small_workload:make_taller", "--strategy", "mcts", "--trials", "8",
                    "--search", "smoke", "--work-dir", str(target), "--warm-start", str(source),
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

    wrong = run_litecoop("tune", "--workload", "small_workload:make_taller", "--strategy", "evolutionary",
                     "--trials", "8", "--work-dir", str(tmp_path / "e"), "--warm-start", str(source))
    assert wrong.returncode == 2 and "--warm-start works with" in wrong.stderr
    missing = run_litecoop("tune", "--workload", "small_workload:make_taller", "--trials", "8",
                       "--work-dir", str(tmp_path / "m"), "--warm-start", str(tmp_path / "nothing"))
    assert missing.returncode == 2 and "no tuning database" in missing.stderr


def test_bench_warm_resumes_from_its_log_and_reports(tmp_path):
    """`bench-warm` over the committed 5-seed run log: nothing left to tune, so it only rebuilds the report."""
    recorded = TESTS.parent / "results" / "warm" / "warm_runs.jsonl"
    (tmp_path / "warm_runs.jsonl").write_text(recorded.read_text())
    result = run_litecoop("bench-warm", "--out", str(tmp_path), "--seeds", "5")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "seed 0" not in result.stderr, "every run was in the log: nothing is tuned again"
    summary = json.loads((tmp_path / "warm.json").read_text())["summary"]
    assert [row["seed"] for row in summary["seeds"]] == [0, 1, 2, 3, 4]
    for row in summary["seeds"]:
        assert row["100%"]["cold_trials"] is not None, "cold reaches its own best"
    assert (tmp_path / "warm_speedup_vs_trials.png").stat().st_size > 10_000
    assert any(line.split("|")[1].strip() == "warm" for line in (tmp_path / "warm.md").read_text().splitlines()
               if line.startswith("|"))
