"""`litecoop compare-code`: bench-code folders pooled over seeds and compared pairwise on shared runs."""

import json
from pathlib import Path

import pytest

from litecoop.cli import main
from litecoop.codeopt.compare import paired, pool_runs, proven_by, run_compare_code, search_s

RESULTS = Path(__file__).parent.parent / "results" / "archive"


def write_folder(folder: Path, runs: list[dict]) -> Path:
    folder.mkdir()
    (folder / "runs.jsonl").write_text("".join(json.dumps(run) + "\n" for run in runs))
    return folder


def run(strategy: str, example: str, seed: int, speedup: float, significant: bool = True, meta: bool = False,
        compute: float = 1e12, candidates: list[tuple[float, float, float]] | None = None, llm_s: float = 8.0,
        meta_s: float = 0.0) -> dict:
    """The fields of a bench-code run report that the comparison reads. `candidates`: (seconds, screening speedup,
    p-value) in order, 4/5 of the seconds LLM and 1/5 validation; the last is the best; default one, `speedup`."""
    candidates = candidates or [(10.0, speedup, 0.001 if significant else 0.5)]
    return {"strategy": strategy, "example": example, "seed": seed, "speedup": speedup, "significant": significant,
            "meta_prompting": {"enabled": meta, "seconds": meta_s}, "llm_s": llm_s,
            "validation_s": sum(seconds for seconds, _, _ in candidates) / 5, "wall_s": 20.0, "candidates_tried": 4,
            "candidates": [{"passed": True, "speedup": screening, "p_value": p_value, "llm_s": seconds * 4 / 5,
                            "validation_s": seconds / 5} for seconds, screening, p_value in candidates],
            "best": {"screening_speedup": candidates[-1][1]},
            "llm": {"qwen": {"calls": 4, "prompt_tokens": 900, "completion_tokens": 100,
                             "compute_token_params": compute}}}


def test_a_later_folder_replaces_an_earlier_run_and_pairs_share_example_and_seed(tmp_path):
    examples = [f"example{i}" for i in range(6)]
    seed0 = write_folder(tmp_path / "seed0", [run("single", e, 0, 1.0, significant=False) for e in examples]
                         + [run("moa", e, 0, 1.0, significant=False) for e in examples])
    rerun = write_folder(tmp_path / "rerun", [run("moa", e, 0, 3.0, compute=2e12) for e in examples])
    seed1 = write_folder(tmp_path / "seed1", [run("moa", "example0", 1, 2.0), run("single", "example0", 1, 2.0),
                                              run("moa", "example1", 1, 2.0, meta=True)])
    runs = pool_runs([seed0, rerun, seed1])
    assert len(runs) == 15
    moa_vs_single = paired(runs, "moa", "single")
    assert moa_vs_single["runs"] == 7
    assert moa_vs_single["significant"] == (7, 1)
    assert moa_vs_single["higher"] == 6 and moa_vs_single["lower"] == 0
    assert moa_vs_single["wilcoxon_p"] < 0.05
    assert moa_vs_single["compute_ratio"] == pytest.approx(13 / 7)
    assert moa_vs_single["per_seed"][0] == (6, pytest.approx(3.0))
    assert moa_vs_single["per_seed"][1] == (0, pytest.approx(1.0))
    assert paired(runs, "moa +meta", "single") is None  # no shared (example, seed)
    assert paired(runs, "moa", "moa +meta") is None

    text = run_compare_code([seed0, rerun, seed1], tmp_path / "out")
    assert "| moa vs single | 7 " in text
    assert (tmp_path / "out" / "cost.png").stat().st_size > 0
    assert not (tmp_path / "out" / "time.png").exists()  # no (example, seed) that every variant ran
    assert json.loads((tmp_path / "out" / "compare.json").read_text())["pairs"][0]["a"] == "moa"


def test_equal_time_cuts_the_costlier_run_at_the_cheaper_ones_seconds(tmp_path):
    # 30 s of candidates: a failure (0.8x), 1.2x significant at screening, then the best (3.1x screening, 2.8x
    # confirmed); 6 s of LLM answers that made no candidate, spread over the three (x 1.2); 5 s of meta-prompting
    costly = run("moa", "e", 0, 2.8, candidates=[(10.0, 0.8, 0.9), (10.0, 1.2, 0.01), (10.0, 3.1, 0.001)],
                 llm_s=30.0, meta_s=5.0, meta=True)
    assert search_s(costly) == pytest.approx(41.0)
    assert proven_by(costly, 41.0) == 2.8  # the whole run: its confirmed verdict
    assert proven_by(costly, 40.0) == 1.2  # the best candidate lands at 5 + 36 s
    assert proven_by(costly, 29.0) == 1.2 and proven_by(costly, 28.9) == 1.0  # the 1.2x one lands at 5 + 24 s
    cheap = run("single", "e", 0, 1.5)  # 10 s
    folder = write_folder(tmp_path / "runs", [dict(costly, meta_prompting={"enabled": False, "seconds": 5.0}), cheap])
    pair = paired(pool_runs([folder]), "moa", "single")
    assert pair["geomean"] == (pytest.approx(2.8), pytest.approx(1.5)) and pair["higher"] == 1
    assert pair["equal_time"]["geomean"] == (1.0, 1.5) and pair["equal_time"]["lower"] == 1
    assert pair["search_s_ratio"] == pytest.approx(4.1)
    run_compare_code([folder], tmp_path / "out")
    assert (tmp_path / "out" / "time.png").stat().st_size > 0


def test_the_committed_seed_0_pools_session_12_moa_over_session_11(tmp_path):
    """On the real runs: results/code-cpu-moa2 reran MoA at seed 0, so its runs replace code-cpu's MoA runs."""
    runs = pool_runs([RESULTS / "code-cpu", RESULTS / "code-cpu-moa2"])
    moa2 = {json.loads(line)["example"]: json.loads(line)["speedup"]
            for line in (RESULTS / "code-cpu-moa2" / "runs.jsonl").read_text().splitlines()}
    pooled_moa = {r["example"]: r["speedup"] for r in runs if r["strategy"] == "moa"}
    assert all(pooled_moa[example] == speedup for example, speedup in moa2.items())


def test_a_folder_without_runs_is_a_one_line_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["compare-code", str(tmp_path), "--out", str(tmp_path / "out")])
    assert exit_info.value.code == 2
    assert "no runs.jsonl (not a bench-code --out folder)" in capsys.readouterr().err
