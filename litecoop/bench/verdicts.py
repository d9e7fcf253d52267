"""Verdicts on the LiteCoOp paper's claims, judged from one `litecoop bench` run (`--search paper`): who expands the
tree, the larger model's share of the calls, litecoop's compile time and LLM compute against one larger LLM guiding
the same search (single-llm), and litecoop against the same tree with mutators proposing (mcts).

Each verdict compares strategies measured in the same invocation, says by how much a target is missed, and says
why none can be given (a strategy this run did not include). The paper's own figures (LiteCoOp, on CPU: 1.74x less
compile time and 4.32x less LLM cost than a single large LLM, the larger model making 23.9% of the calls) stand
beside the measured ones.
"""

from __future__ import annotations

from typing import NamedTuple

from scipy.stats import gmean

from litecoop.report.tables import markdown_table


class Verdict(NamedTuple):
    """One target: `measured`, `goal` and the paper's figure (`paper`) as text; `met` None when there is no goal
    or this run cannot decide it."""

    name: str
    measured: str
    goal: str
    paper: str
    met: bool | None


def _band(values: list[float]) -> str:
    return f"{min(values):.0%} to {max(values):.0%} over {len(values)} run(s)"


def who_expands(summary: dict) -> list[Verdict]:
    """In every litecoop run the LLMs make at least half of the policy expansions (mutators the rest, once the call
    budget is spent), and the larger model 10-30% of the LLM calls."""
    team = summary["strategies"]["litecoop"]
    expansions, shares = team["llm_expansion_share_by_run"], team["large_model_call_share_by_run"]
    return [Verdict("LLM share of litecoop's expansions", _band(expansions) if expansions else "no data",
                    ">= 50% in every run", "every expansion", bool(expansions) and min(expansions) >= 0.5),
            Verdict("larger-model share of litecoop's calls", _band(shares) if shares else "no data",
                    "10-30% in every run", "23.9%", bool(shares) and 0.10 <= min(shares) and max(shares) <= 0.30)]


def team_cost(summary: dict) -> list[Verdict]:
    """Against single-llm over the same workloads and seeds: wall (compile) time at most 0.6x, LLM compute (tokens
    x parameters, all models) at most 0.3x, final speedup (re-timed together) at least 0.97x."""
    team, single = summary["strategies"]["litecoop"], summary["strategies"]["single-llm"]
    compute = sum(team["llm_compute_token_params"].values()) / max(sum(single["llm_compute_token_params"].values()), 1.0)
    wall = team["wall_s"] / single["wall_s"]
    speedup = team["final_speedup_mean_over_seeds"] / single["final_speedup_mean_over_seeds"]
    return [Verdict("wall s, litecoop / single-llm", f"{wall:.2f}", "<= 0.60", f"{1 / 1.74:.2f} (1.74x less)",
                    wall <= 0.6),
            Verdict("LLM compute, litecoop / single-llm", f"{compute:.2f}", "<= 0.30", f"{1 / 4.32:.2f} (4.32x less)",
                    compute <= 0.3),
            Verdict("final speedup, litecoop / single-llm", f"{speedup:.2f}x", ">= 0.97x", "comparable",
                    speedup >= 0.97)]


def against_mutators(summary: dict) -> list[Verdict]:
    """litecoop's speedup over mcts's (the same rounds, mutators proposing), per seed, at each trial checkpoint and at
    equal wall time: shown, no goal."""
    team, tree = summary["strategies"]["litecoop"], summary["strategies"]["mcts"]
    rows = []
    for checkpoint in summary["checkpoints"]:
        mine, theirs = team["speedup_at_by_seed"].get(checkpoint, {}), tree["speedup_at_by_seed"].get(checkpoint, {})
        rows.append((f"at {checkpoint} trials", [mine[s] / theirs[s] for s in sorted(mine.keys() & theirs.keys())]))
    mine, theirs = team["speedup_at_equal_wall_by_seed"], tree["speedup_at_equal_wall_by_seed"]
    rows.append(("at equal wall time", [mine[s] / theirs[s] for s in sorted(mine.keys() & theirs.keys())]))
    return [Verdict(f"speedup, litecoop / mcts {when}",
                    f"{gmean(ratios):.2f}x [{min(ratios):.2f}, {max(ratios):.2f}] over {len(ratios)} seed(s)"
                    if ratios else "no data (not every task measured yet)", "shown", "-", None)
            for when, ratios in rows]


def verdicts(summary: dict) -> list[Verdict]:
    """Every target this run has the strategies for."""
    have = set(summary["strategies"])
    result = who_expands(summary) if "litecoop" in have else []
    if {"litecoop", "single-llm"} <= have:
        result += team_cost(summary)
    if {"litecoop", "mcts"} <= have:
        result += against_mutators(summary)
    return result


def markdown(rows: list[Verdict]) -> str:
    """The verdicts as a Markdown table."""
    def met(row: Verdict) -> str:
        return "-" if row.met is None else ("yes" if row.met else "**no**")

    return markdown_table(["what", "measured", "goal", "the paper (CPU)", "met"],
                          [[row.name, row.measured, row.goal, row.paper, met(row)] for row in rows]) + "\n"
