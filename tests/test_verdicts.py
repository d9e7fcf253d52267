"""The benchmark targets' verdicts, on hand-made summaries of a bench run (the numbers are inputs here;
the bench smoke test produces real ones)."""

from litecoop import verdicts


def strategy(by_seed: dict, final: float = 10.0, compute: dict | None = None, share: float = 0.0) -> dict:
    return {"speedup_at_by_seed": by_seed, "final_speedup_geomean": final, "llm_compute_token_params": compute or {},
            "large_model_call_share": share, "invalid_proposals": 1, "llm_calls": 8,
            "roofline_fraction": {"flux_conv": 0.4}}


def test_llm_ablation_is_judged_per_seed_at_64_trials():
    summary = {"strategies": {"litecoop": strategy({64: {0: 12.0, 1: 10.0}}),
                              "mcts": strategy({64: {0: 10.0, 1: 10.0}})}}
    rows = {row.number: row for row in verdicts.verdicts(summary, [])}
    assert rows[7].met is False and rows[7].measured.startswith("1.10x [1.00, 1.20] over 2 seed(s)")
    summary["strategies"]["mcts"] = strategy({64: {0: 10.0, 1: 8.0}})
    assert verdicts.llm_earns_its_seconds(summary).met is True
    assert rows[6].met is False and "flux_conv 40%" in rows[6].measured


def test_sample_efficiency_needs_evolutionary_at_512_trials():
    summary = {"strategies": {"litecoop": strategy({64: {0: 50.0}}), "evolutionary": strategy({64: {0: 40.0}})}}
    assert verdicts.sample_efficiency(summary).met is None
    summary["strategies"]["evolutionary"] = strategy({64: {0: 40.0}, 512: {0: 55.0}})
    verdict = verdicts.sample_efficiency(summary)
    assert verdict.met is False and verdict.measured.startswith("0.91x")


def test_wall_time_counts_runs_that_never_reach_evolutionary_best():
    def run(name, history, seed=0):
        return {"strategy": name, "workload": "flux_conv", "seed": seed, "history": history}

    runs = [run("evolutionary", [(16, 2.0, 100.0), (32, 1.0, 300.0)]), run("litecoop", [(16, 1.0, 120.0)]),
            run("evolutionary", [(16, 1.0, 200.0)], 1), run("litecoop", [(16, 1.5, 90.0)], 1)]
    verdict = verdicts.wall_time(runs)
    assert verdict.met is False and "never reached it in 1 of 2" in verdict.measured
    assert verdicts.wall_time(runs[:2]).measured.startswith("0.40 (120 s / 300 s)")


def test_team_cost_compares_the_larger_model_only():
    summary = {"strategies": {
        "single-llm": strategy({}, final=20.0, compute={"large": 10.0}, share=1.0),
        "litecoop": strategy({}, final=19.0, compute={"small": 50.0, "large": 4.0}, share=0.3)}}
    compute, speedup, share = verdicts.team_cost(summary)
    assert (compute.measured, compute.met) == ("0.40", True)
    assert (speedup.measured, speedup.met) == ("0.95x", False)
    assert (share.measured, share.met) == ("30%", False)
