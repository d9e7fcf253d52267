"""The verdicts on the LiteCoOp paper's claims, on hand-made summaries of a bench run (the numbers are inputs here;
the bench smoke test produces real ones)."""

from litecoop.bench import verdicts


def strategy(by_seed: dict | None = None, final: float = 10.0, compute: dict | None = None,
             equal_wall: dict | None = None, wall_s: float = 100.0, expansion_shares: list | None = None,
             large_shares: list | None = None) -> dict:
    return {"speedup_at_by_seed": by_seed or {}, "speedup_at_equal_wall_by_seed": equal_wall or {},
            "final_speedup_mean_over_seeds": final, "llm_compute_token_params": compute or {}, "wall_s": wall_s,
            "llm_expansion_share_by_run": expansion_shares or [], "large_model_call_share_by_run": large_shares or []}


def test_every_litecoop_run_must_have_the_llms_expand_and_the_larger_model_in_its_band():
    summary = {"strategies": {"litecoop": strategy(expansion_shares=[1.0, 0.6], large_shares=[0.15, 0.25])}}
    expansions, share = verdicts.verdicts(summary)
    assert (expansions.met, share.met) == (True, True) and share.measured.startswith("15% to 25% over 2 run(s)")
    summary["strategies"]["litecoop"] = strategy(expansion_shares=[1.0, 0.4], large_shares=[0.15, 0.35])
    assert [v.met for v in verdicts.who_expands(summary)] == [False, False]
    summary["strategies"]["litecoop"] = strategy(expansion_shares=[1.0], large_shares=[0.05, 0.2])
    assert verdicts.who_expands(summary)[1].met is False
    assert verdicts.who_expands({"strategies": {"litecoop": strategy()}})[0].measured == "no data"


def test_team_cost_counts_every_models_compute_against_single_llm():
    summary = {"strategies": {
        "single-llm": strategy(final=20.0, compute={"large": 10.0}, wall_s=200.0),
        "litecoop": strategy(final=19.6, compute={"small": 1.0, "large": 1.5}, wall_s=110.0)}}
    wall, compute, speedup = verdicts.team_cost(summary)
    assert (wall.measured, wall.met) == ("0.55", True)
    assert (compute.measured, compute.met) == ("0.25", True)
    assert (speedup.measured, speedup.met) == ("0.98x", True)
    summary["strategies"]["litecoop"]["llm_compute_token_params"]["small"] = 2.0  # 0.35 of single-llm's
    assert verdicts.team_cost(summary)[1].met is False


def test_litecoop_against_mcts_is_shown_per_seed_at_each_checkpoint_and_at_equal_wall_time():
    summary = {"checkpoints": [8, 64], "strategies": {
        "litecoop": strategy({64: {0: 12.0, 1: 10.0}}, equal_wall={0: 9.0, 1: 9.0}),
        "mcts": strategy({64: {0: 10.0, 1: 10.0}}, equal_wall={0: 10.0, 1: 8.0})}}
    at_8, at_64, at_equal_wall = verdicts.against_mutators(summary)
    assert at_8.measured.startswith("no data") and at_64.measured.startswith("1.10x [1.00, 1.20] over 2 seed(s)")
    assert at_equal_wall.measured.startswith("1.01x [0.90, 1.12]") and at_64.met is None
    assert len(verdicts.verdicts(summary)) == 2 + 3  # no single-llm in this run: no team-cost rows
