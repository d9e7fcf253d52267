"""`litecoop compare-code`: bench-code folders pooled over seeds and compared pairwise on shared runs."""

import json
from pathlib import Path

import pytest

from litecoop.cli import main
from litecoop.code.compare import paired, pool_runs, run_compare_code

RESULTS = Path(__file__).parent.parent / "results"


def write_folder(folder: Path, runs: list[dict]) -> Path:
    folder.mkdir()
    (folder / "runs.jsonl").write_text("".join(json.dumps(run) + "\n" for run in runs))
    return folder


def run(strategy: str, example: str, seed: int, speedup: float, significant: bool = True, meta: bool = False,
        compute: float = 1e12) -> dict:
    """The fields of a bench-code run report that the comparison reads."""
    return {"strategy": strategy, "example": example, "seed": seed, "speedup": speedup, "significant": significant,
            "meta_prompting": {"enabled": meta}, "llm_s": 10.0, "wall_s": 20.0, "candidates_tried": 4,
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
    assert json.loads((tmp_path / "out" / "compare.json").read_text())["pairs"][0]["a"] == "moa"


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
