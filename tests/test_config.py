"""Typed configuration and reports: presets and options are validated with one-line errors, reports
round-trip through JSON (fast, no TVM build)."""

import json
import math
from pathlib import Path

import pytest

from litecoop.errors import UserError
from litecoop.presets import PRESETS_DIR
from litecoop.llm.model_spec import load_models
from litecoop.report.tune_report import TuneReport, write_json
from litecoop.report.run_log import append_run, load_runs
from litecoop.search.settings import from_preset
from litecoop.tuning.config import DEFAULT_TRIALS, TuneConfig

ROOT = Path(__file__).resolve().parent.parent


def one_line(err: pytest.ExceptionInfo) -> str:
    text = str(err.value)
    assert "\n" not in text
    return text


def test_tune_config_defaults_to_trials_and_refuses_bad_options():
    assert TuneConfig.of(workload="flux_conv", work_dir="w").trials == DEFAULT_TRIALS
    budgeted = TuneConfig.of(workload="flux_conv", work_dir="w", time_budget_s=60)
    assert budgeted.trials is None and budgeted.time_budget_s == 60
    for options, words in [({"trials": 0}, "--trials"), ({"time_budget_s": -1}, "--time-budget"),
                           ({"trials_total": 8}, "trials_total"), ({"strategy": "greedy"}, "unknown strategy")]:
        with pytest.raises(UserError) as err:
            TuneConfig.of(workload="flux_conv", work_dir="w", **options)
        assert words in one_line(err)


@pytest.mark.parametrize("preset", sorted(p.stem for p in (PRESETS_DIR / "search").glob("*.toml")))
def test_every_search_preset_loads(preset):
    settings = from_preset(preset)
    assert settings.num_trials_per_iter > 0 and settings.run_timeout_s > 0


def test_bad_search_preset_is_one_line(tmp_path):
    preset = tmp_path / "typo.toml"
    preset.write_text("num_trials_per_iter = 16\nrollouts_per_chlid = 4\n")
    with pytest.raises(UserError) as err:
        from_preset(str(preset))
    assert "rollouts_per_chlid" in one_line(err)
    preset.write_text("num_trials_per_iter = 0\n")
    with pytest.raises(UserError) as err:
        from_preset(str(preset))
    assert "num_trials_per_iter" in one_line(err)


@pytest.mark.parametrize("preset", sorted(p.stem for p in (PRESETS_DIR / "models").glob("*.toml")))
def test_every_models_preset_loads(preset):
    models = load_models(preset)
    assert models and all(m.endpoint or (m.sha256 and (m.chunks or m.path)) for m in models)


@pytest.mark.parametrize("table, words", [
    ('role = "medium"\nparameters = 1e8\nendpoint = "http://x"', "role"),
    ('role = "small"\nparameters = 1e8\nchunks = ["a"]\nsha256 = "0"', "file"),
    ('role = "small"\nparameters = 1e8\npath = "m.gguf"\nendpoint = "http://x"\nsha256 = "0"', "not both"),
    ('role = "small"\nparameters = 1e8\nendpoint = "http://x"\ntimeout = 3', "timeout"),
])
def test_bad_models_preset_is_one_line(tmp_path, table, words):
    preset = tmp_path / "team.toml"
    preset.write_text(f'[[model]]\nname = "m"\n{table}\n')
    with pytest.raises(UserError) as err:
        load_models(str(preset))
    assert words in one_line(err)


def test_report_round_trips_through_the_run_log(tmp_path):
    """A report that a bench committed loads typed, and what the run log writes loads back equal, NaN included."""
    line = (ROOT / "results" / "archive" / "bench-llm-v2" / "runs.jsonl").read_text().splitlines()[0]
    report = TuneReport.read(json.loads(line), "runs.jsonl")
    assert report.history and report.lineages and report.baseline_s() == report.untuned_latency_s
    changed = report.model_copy(update={"max_abs_error": math.nan, "baseline_latency_s": report.untuned_latency_s * 2})
    log, runs = tmp_path / "runs.jsonl", []
    append_run(log, runs, changed)
    (again,) = load_runs(log, TuneReport.read)
    assert math.isnan(again.max_abs_error) and again.baseline_s() == changed.baseline_latency_s
    assert again.model_dump(exclude={"max_abs_error"}) == changed.model_dump(exclude={"max_abs_error"})


def test_malformed_report_is_one_line():
    with pytest.raises(UserError) as err:
        TuneReport.read({"workload": "x"}, "old.json")
    assert "old.json" in one_line(err) and "not a `litecoop tune --json` report" in str(err.value)


def test_written_report_reads_back_and_has_its_convergence_plot(tmp_path):
    """`litecoop tune --json OUT` writes OUT and OUT.png (best latency against search seconds, with the peers)."""
    path = ROOT / "results" / "archive" / "vs-onnxruntime" / "deepseek_moe-10m.json"
    report = TuneReport.read(json.loads(path.read_text()), str(path))
    write_json(report, tmp_path / "out.json")
    assert TuneReport.read(json.loads((tmp_path / "out.json").read_text()), "out.json") == report
    assert (tmp_path / "out.png").stat().st_size > 10_000
