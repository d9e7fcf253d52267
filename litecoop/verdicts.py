"""Verdicts on the benchmark targets of the "prove it" issue, judged from one `litecoop bench` run.

Each verdict compares strategies measured in the same invocation (ratios, per seed where the target
is about the search), says by how much a target is missed, and says why none can be given (a strategy
or checkpoint that this run did not include).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .history import best_latency_at, seconds_to_reach


class Verdict(NamedTuple):
    """One target: `measured` and `goal` as text, `met` None when this run cannot decide it."""

    number: int
    name: str
    measured: str
    goal: str
    met: bool | None


def _spread(values: list[float]) -> str:
    return f"{np.mean(values):.2f}x [{min(values):.2f}, {max(values):.2f}] over {len(values)} seed(s)"


def _ratio_by_seed(summary: dict, mine: str, theirs: str, checkpoint: int, their_checkpoint: int) -> list[float]:
    strategies = summary["strategies"]
    a = strategies[mine]["speedup_at_by_seed"].get(checkpoint, {})
    b = strategies[theirs]["speedup_at_by_seed"].get(their_checkpoint, {})
    return [a[seed] / b[seed] for seed in sorted(a.keys() & b.keys())]


def sample_efficiency(summary: dict) -> Verdict:
    """Target 1: litecoop at 64 trials reaches evolutionary's speedup at 512 (8x fewer trials)."""
    goal = "litecoop@64 / evolutionary@512 >= 1.00"
    last = max(summary["strategies"]["evolutionary"]["speedup_at_by_seed"], default=None)
    ratios = _ratio_by_seed(summary, "litecoop", "evolutionary", 64, 512)
    if not ratios:
        return Verdict(1, "8x sample efficiency", f"no data (evolutionary ran to {last} trials)", goal, None)
    return Verdict(1, "8x sample efficiency", _spread(ratios), goal, float(np.mean(ratios)) >= 1.0)


def wall_time(runs: list[dict]) -> Verdict:
    """Target 2: tuning seconds (LLM included) for litecoop to reach evolutionary's best in-search latency,
    at most half of evolutionary's own, per (workload, seed); ratio of the summed seconds."""
    goal = "litecoop s / evolutionary s to reach evolutionary's best <= 0.50"
    pairs = {}
    for r in runs:
        if r["strategy"] in ("litecoop", "evolutionary"):
            pairs.setdefault((r["workload"], r["seed"]), {})[r["strategy"]] = r
    ours = theirs = 0.0
    never = 0
    compared = [p for p in pairs.values() if len(p) == 2]
    for pair in compared:
        evolutionary = pair["evolutionary"]["history"]
        best = best_latency_at(evolutionary, float("inf"))
        reached = seconds_to_reach(pair["litecoop"]["history"], best)
        if reached is None:
            never += 1
            continue
        ours, theirs = ours + reached, theirs + seconds_to_reach(evolutionary, best)
    if not compared:
        return Verdict(2, "wall time to evolutionary's best", "no data", goal, None)
    if never:
        return Verdict(2, "wall time to evolutionary's best",
                       f"litecoop never reached it in {never} of {len(compared)} runs", goal, False)
    return Verdict(2, "wall time to evolutionary's best", f"{ours / theirs:.2f} ({ours:.0f} s / {theirs:.0f} s)",
                   goal, ours / theirs <= 0.5)


def _larger_model(summary: dict) -> str | None:
    models = summary["strategies"]["single-llm"]["llm_compute_token_params"]
    return next(iter(models), None)


def team_cost(summary: dict) -> list[Verdict]:
    """Target 3: against single-llm at equal trials, larger-model compute at most half, final speedup at
    least 0.97x, and the larger model makes at most 25% of litecoop's calls."""
    team, single = summary["strategies"]["litecoop"], summary["strategies"]["single-llm"]
    large = _larger_model(summary)
    if large is None:
        return [Verdict(3, "team vs single larger model", "single-llm made no LLM call", "-", None)]
    compute = team["llm_compute_token_params"].get(large, 0.0) / single["llm_compute_token_params"][large]
    speedup = team["final_speedup_geomean"] / single["final_speedup_geomean"]
    share = team["large_model_call_share"]
    return [Verdict(3, f"{large} compute, litecoop / single-llm", f"{compute:.2f}", "<= 0.50", compute <= 0.5),
            Verdict(3, "final speedup, litecoop / single-llm", f"{speedup:.2f}x", ">= 0.97x", speedup >= 0.97),
            Verdict(3, "larger-model share of litecoop's calls", f"{share:.0%}", "<= 25%", share <= 0.25)]


def proposal_validity(summary: dict) -> Verdict:
    """Target 4: no invalid proposal reaches the builder. Answers are grammar-constrained and every edit is
    checked against its site's legal values before a trace is built (`prompts.parse_answer`); the ones
    that fell back to a mutator are counted."""
    rejected = sum(s["invalid_proposals"] for s in summary["strategies"].values())
    calls = sum(s["llm_calls"] for s in summary["strategies"].values())
    return Verdict(4, "invalid proposals built", f"0 built; {rejected} rejected and replaced by mutators "
                   f"in {calls} calls", "0 built", True)


def roofline(summary: dict) -> Verdict:
    """Target 6: every kernel of the best strategy reaches 70% of its roofline bound."""
    best = {}
    for stats in summary["strategies"].values():
        for workload, fraction in stats["roofline_fraction"].items():
            best[workload] = max(best.get(workload, 0.0), fraction)
    if not best:
        return Verdict(6, "fraction of roofline bound", "no kernel", ">= 70% each", None)
    text = ", ".join(f"{w} {f:.0%}" for w, f in sorted(best.items()))
    return Verdict(6, "fraction of roofline bound (best strategy)", text, ">= 70% each", min(best.values()) >= 0.7)


def llm_earns_its_seconds(summary: dict) -> Verdict:
    """Target 7: at 64 trials litecoop's geometric-mean speedup is at least 1.15x that of mcts (the same
    tree with random mutators: the Reasoning Compiler's Table 3 ablation), per seed."""
    ratios = _ratio_by_seed(summary, "litecoop", "mcts", 64, 64)
    goal = "litecoop@64 / mcts@64 >= 1.15"
    if not ratios:
        return Verdict(7, "LLM vs random mutators", "no data", goal, None)
    return Verdict(7, "LLM vs random mutators", _spread(ratios), goal, float(np.mean(ratios)) >= 1.15)


def verdicts(summary: dict, runs: list[dict]) -> list[Verdict]:
    """Every target this run has the strategies for (minilm's target 5 is in the peers table)."""
    have = set(summary["strategies"])
    result = []
    if {"litecoop", "evolutionary"} <= have:
        result += [sample_efficiency(summary), wall_time(runs)]
    if {"litecoop", "single-llm"} <= have:
        result += team_cost(summary)
    if have & {"litecoop", "single-llm"}:
        result.append(proposal_validity(summary))
    result.append(roofline(summary))
    if {"litecoop", "mcts"} <= have:
        result.append(llm_earns_its_seconds(summary))
    return result


def markdown(rows: list[Verdict]) -> str:
    """The verdicts as a Markdown table."""
    lines = ["| target | what | measured | goal | met |", "|---|---|---|---|---|"]
    for row in rows:
        met = "n/a" if row.met is None else ("yes" if row.met else "**no**")
        lines.append(f"| {row.number} | {row.name} | {row.measured} | {row.goal} | {met} |")
    return "\n".join(lines) + "\n"
