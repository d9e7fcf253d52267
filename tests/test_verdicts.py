"""The targets' verdicts, on hand-made summaries of a bench run (the numbers are inputs here; the bench smoke
test produces real ones)."""

from litecoop.bench import verdicts


def strategy(by_seed: dict, final: float = 10.0, compute: dict | None = None, share: float = 0.0,
             equal_wall: dict | None = None, llm_s: float = 0.0, wall_s: float = 100.0) -> dict:
    return {"speedup_at_by_seed": by_seed, "speedup_at_equal_wall_by_seed": equal_wall or {},
            "final_speedup_mean_over_seeds": final, "llm_compute_token_params": compute or {},
            "large_model_call_share": share, "llm_s": llm_s, "wall_s": wall_s}


def test_llm_ablation_is_judged_per_seed_at_64_trials_and_at_equal_wall_time():
    summary = {"strategies": {"litecoop": strategy({64: {0: 12.0, 1: 10.0}}, equal_wall={0: 9.0, 1: 9.0}),
                              "mcts": strategy({64: {0: 10.0, 1: 10.0}}, equal_wall={0: 10.0, 1: 8.0})}}
    rows = {row.number: row for row in verdicts.verdicts(summary)}
    assert rows[1].met is False and rows[1].measured.startswith("1.10x [1.00, 1.20] over 2 seed(s)")
    assert rows[2].met is True and rows[2].measured.startswith("1.01x [0.90, 1.12]")
    summary["strategies"]["mcts"] = strategy({64: {0: 10.0, 1: 8.0}})
    assert verdicts.llm_vs_mutators(summary).met is True
    assert verdicts.llm_earns_its_seconds(summary).met is None


def test_llm_time_share():
    summary = {"strategies": {"litecoop": strategy({}, llm_s=30.0, wall_s=100.0)}}
    assert verdicts.llm_time_share(summary).met is False
    summary["strategies"]["litecoop"]["llm_s"] = 20.0
    assert verdicts.llm_time_share(summary).measured == "20%"


def test_sample_efficiency_needs_evolutionary_at_256_trials():
    summary = {"strategies": {"litecoop": strategy({64: {0: 50.0}}), "evolutionary": strategy({64: {0: 40.0}})}}
    assert verdicts.sample_efficiency(summary).met is None
    summary["strategies"]["evolutionary"] = strategy({64: {0: 40.0}, 256: {0: 55.0}})
    verdict = verdicts.sample_efficiency(summary)
    assert verdict.met is False and verdict.measured.startswith("0.91x")


def test_team_cost_compares_the_larger_model_only():
    summary = {"strategies": {
        "single-llm": strategy({}, final=20.0, compute={"large": 10.0}, share=1.0),
        "litecoop": strategy({}, final=19.0, compute={"small": 50.0, "large": 4.0}, share=0.35)}}
    compute, speedup, share = verdicts.team_cost(summary)
    assert (compute.measured, compute.met) == ("0.40", True)
    assert (speedup.measured, speedup.met) == ("0.95x", False)
    assert (share.measured, share.met) == ("35%", False)
