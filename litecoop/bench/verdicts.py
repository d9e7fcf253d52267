"""Verdicts on the targets of the issue "the LLM team must earn its seconds", judged from one `litecoop bench` run.

Each verdict compares strategies measured in the same invocation (ratios, per seed where the target
is about the search), says by how much a target is missed, and says why none can be given (a strategy
or checkpoint that this run did not include).
"""

from __future__ import annotations

from typing import NamedTuple

from scipy.stats import gmean

from litecoop.report.tables import markdown_table


class Verdict(NamedTuple):
    """One target: `measured` and `goal` as text, `met` None when this run cannot decide it."""

    number: int
    name: str
    measured: str
    goal: str
    met: bool | None


def _spread(values: list[float]) -> str:
    return f"{gmean(values):.2f}x [{min(values):.2f}, {max(values):.2f}] over {len(values)} seed(s)"


def _ratio_by_seed(summary: dict, mine: str, theirs: str, checkpoint, their_checkpoint, key="speedup_at_by_seed") -> list[float]:
    strategies = summary["strategies"]
    a = strategies[mine][key].get(checkpoint, {}) if checkpoint is not None else strategies[mine][key]
    b = strategies[theirs][key].get(their_checkpoint, {}) if their_checkpoint is not None else strategies[theirs][key]
    return [a[seed] / b[seed] for seed in sorted(a.keys() & b.keys())]


def _judged(number: int, name: str, ratios: list[float], goal: float) -> Verdict:
    text = f">= {goal:.2f}x (geomean over seeds)"
    if not ratios:
        return Verdict(number, name, "no data", text, None)
    return Verdict(number, name, _spread(ratios), text, bool(gmean(ratios) >= goal))


def llm_vs_mutators(summary: dict) -> Verdict:
    """Target 1: at 64 trials litecoop's geometric-mean speedup is at least 1.15x that of mcts (the same tree
    with random mutators: the Reasoning Compiler's ablation), per seed, one untuned baseline per workload."""
    return _judged(1, "litecoop / mcts at 64 trials", _ratio_by_seed(summary, "litecoop", "mcts", 64, 64), 1.15)


def llm_earns_its_seconds(summary: dict) -> Verdict:
    """Target 2: at equal wall time (when the first strategy finished), litecoop is at least as fast as mcts."""
    ratios = _ratio_by_seed(summary, "litecoop", "mcts", None, None, "speedup_at_equal_wall_by_seed")
    return _judged(2, "litecoop / mcts at equal wall time", ratios, 1.0)


def llm_time_share(summary: dict) -> Verdict:
    """Target 3: the LLM calls take at most 25% of litecoop's wall time."""
    team = summary["strategies"]["litecoop"]
    share = team["llm_s"] / team["wall_s"] if team["wall_s"] else 0.0
    return Verdict(3, "LLM seconds / litecoop wall seconds", f"{share:.0%}", "<= 25%", share <= 0.25)


def _larger_model(summary: dict) -> str | None:
    models = summary["strategies"]["single-llm"]["llm_compute_token_params"]
    return next(iter(models), None)


def team_cost(summary: dict) -> list[Verdict]:
    """Target 4: against single-llm at equal trials, larger-model compute at most half, final speedup at
    least 0.97x, and the larger model makes 10-30% of litecoop's calls (the paper: 23.9%)."""
    team, single = summary["strategies"]["litecoop"], summary["strategies"]["single-llm"]
    large = _larger_model(summary)
    if large is None:
        return [Verdict(4, "team vs single larger model", "single-llm made no LLM call", "-", None)]
    compute = team["llm_compute_token_params"].get(large, 0.0) / single["llm_compute_token_params"][large]
    speedup = team["final_speedup_mean_over_seeds"] / single["final_speedup_mean_over_seeds"]
    share = team["large_model_call_share"]
    return [Verdict(4, f"{large} compute, litecoop / single-llm", f"{compute:.2f}", "<= 0.50", compute <= 0.5),
            Verdict(4, "final speedup, litecoop / single-llm", f"{speedup:.2f}x", ">= 0.97x", speedup >= 0.97),
            Verdict(4, "larger-model share of litecoop's calls", f"{share:.0%}", "10-30%", 0.10 <= share <= 0.30)]


def sample_efficiency(summary: dict) -> Verdict:
    """Target 5: litecoop at 64 trials reaches evolutionary's speedup at 256 (4x fewer trials)."""
    last = max(summary["strategies"]["evolutionary"]["speedup_at_by_seed"], default=None)
    ratios = _ratio_by_seed(summary, "litecoop", "evolutionary", 64, 256)
    if not ratios:
        return Verdict(5, "litecoop@64 / evolutionary@256", f"no data (evolutionary ran to {last} trials)",
                       ">= 1.00x", None)
    return _judged(5, "litecoop@64 / evolutionary@256", ratios, 1.0)


def verdicts(summary: dict) -> list[Verdict]:
    """Every target this run has the strategies for."""
    have = set(summary["strategies"])
    result = []
    if {"litecoop", "mcts"} <= have:
        result += [llm_vs_mutators(summary), llm_earns_its_seconds(summary)]
    if "litecoop" in have:
        result.append(llm_time_share(summary))
    if {"litecoop", "single-llm"} <= have:
        result += team_cost(summary)
    if {"litecoop", "evolutionary"} <= have:
        result.append(sample_efficiency(summary))
    return result


def markdown(rows: list[Verdict]) -> str:
    """The verdicts as a Markdown table."""
    def met(row: Verdict) -> str:
        return "n/a" if row.met is None else ("yes" if row.met else "**no**")

    return markdown_table(["target", "what", "measured", "goal", "met"],
                          [[str(row.number), row.name, row.measured, row.goal, met(row)] for row in rows]) + "\n"
