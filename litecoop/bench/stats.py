"""`litecoop bench` statistics: from the runs' reports (one `litecoop tune` report dict per run) to the summary
that bench.json keeps and bench.md renders.

Per strategy: the geometric mean over workloads of the speedup at each trial checkpoint and at equal wall time
(one untuned baseline per workload, timed with the final re-timing / best measured latency so far, the latter
estimated as the weighted sum of each task's best), its spread over seeds, wall time split, LLM compute
(tokens x parameters), what each proposer's lineage found per 100 trials and per 100 seconds, and each tuned
kernel's fraction of its roofline bound (the machine's peak FLOP/s and bandwidth measured here).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import asdict

import numpy as np

from litecoop.measure import roofline
from litecoop.report.history import best_latency_at, best_latency_within, seconds_to_reach, trials_to_reach, tuning_seconds
from litecoop.report.tune_report import TuneReport


CHECKPOINTS = (8, 16, 32, 64, 128, 256, 512)


def geomean(values: list[float]) -> float:
    """The geometric mean of positive `values`; NaN for none."""
    return float(math.exp(np.mean(np.log(values)))) if values else float("nan")


def mean_of_seed_geomeans(geomean_by_seed: list[float]) -> float:
    """The arithmetic mean over seeds of each seed's geometric-mean speedup over workloads; NaN for no seed."""
    return float(np.mean(geomean_by_seed)) if geomean_by_seed else float("nan")


def equal_wall_seconds(runs: list[TuneReport]) -> dict[tuple[int, str], float]:
    """Per (seed, workload): the tuning seconds of the strategy that finished first, the point where all
    strategies of the comparison are judged at equal wall time."""
    seconds: dict[tuple[int, str], float] = {}
    for r in runs:
        key = (r.seed, r.workload)
        seconds[key] = min(seconds.get(key, math.inf), tuning_seconds(r.history))
    return seconds


def lineage_seconds(run: TuneReport) -> dict[str, float]:
    """Seconds each lineage of a run cost: its measured trials at the run's mean build+run seconds per trial,
    plus, for an LLM, its own call seconds."""
    per_trial = (run.build_s + run.run_s) / max(run.trials_measured_this_run, 1)
    return {origin: outcome.measured * per_trial + run.llm.get(origin, {}).get("seconds", 0.0)
            for origin, outcome in run.lineages.items()}


def llm_expansion_share(run: TuneReport) -> float | None:
    """The share of a run's policy expansions that its LLMs made (the rest: mutators); None for a run with no LLM
    or no expansions counted."""
    total = sum(outcome.expansions for outcome in run.lineages.values())
    if not run.llm or not total:
        return None
    return sum(outcome.expansions for origin, outcome in run.lineages.items() if origin in run.llm) / total


def summarize(runs: list[TuneReport], strategies: list[str], trials: int) -> dict:
    """Per strategy: speedup geomean per checkpoint and at equal wall time (mean, min, max over seeds), final
    measured speedup, wall split, LLM compute, lineage rates, roofline fractions."""
    limits = roofline.machine_limits()
    peak, bandwidth = limits["peak_flops"], limits["memory_bandwidth_Bps"]
    checkpoints = [c for c in CHECKPOINTS if c <= trials] or [trials]
    equal_wall = equal_wall_seconds(runs)
    result = {"peak_flops": peak, "memory_bandwidth_Bps": bandwidth, "checkpoints": checkpoints, "strategies": {}}
    for strategy in strategies:
        mine = [r for r in runs if r.strategy == strategy]
        seeds = sorted({r.seed for r in mine})
        per_seed: dict[int, dict[int, float]] = {c: {} for c in checkpoints}
        at_equal_wall: dict[int, float] = {}
        for seed in seeds:
            group = [r for r in mine if r.seed == seed]
            for c in checkpoints:
                speedups = [r.baseline_s() / best for r in group if (best := best_latency_at(r.history, c))]
                if len(speedups) == len(group):
                    per_seed[c][seed] = geomean(speedups)
            if group:  # a strategy with nothing measured yet at that time gives the user the untuned build
                at_equal_wall[seed] = geomean([r.baseline_s() / (best_latency_within(
                    r.history, equal_wall[(seed, r.workload)]) or r.baseline_s()) for r in group])
        geomean_by_seed = [geomean([r.final_speedup_or_own() for r in mine if r.seed == s]) for s in seeds]
        compute = {}
        for r in mine:
            for name, usage in r.llm.items():
                compute[name] = compute.get(name, 0.0) + usage["compute_token_params"]
        calls = sum(u["calls"] for r in mine for u in r.llm.values())
        lineages: dict[str, Counter] = {}
        for r in mine:
            for origin, outcome in r.lineages.items():
                lineages.setdefault(origin, Counter()).update(asdict(outcome))
            for origin, seconds in lineage_seconds(r).items():
                lineages[origin]["seconds"] += seconds
        roofline_fraction = {}
        for r in mine:
            if r.flops:
                bound = roofline.bound_s(r.flops, r.bytes, peak, bandwidth)
                roofline_fraction.setdefault(r.workload, []).append(bound / r.final_s())
        result["strategies"][strategy] = {
            "speedup_at": {c: {"mean": float(np.mean(list(v.values()))), "min": min(v.values()), "max": max(v.values())}
                           for c, v in per_seed.items() if v},
            "speedup_at_by_seed": {c: v for c, v in per_seed.items() if v},
            "speedup_at_equal_wall_by_seed": at_equal_wall,
            "final_speedup_by_seed": dict(zip(seeds, geomean_by_seed)),
            "final_speedup_mean_over_seeds": mean_of_seed_geomeans(geomean_by_seed),
            "final_speedup_spread": [min(geomean_by_seed), max(geomean_by_seed)] if geomean_by_seed else [],
            "correct": all(r.correct for r in mine),
            "wall_s": sum(r.wall_s for r in mine),
            "tuning_s": sum(tuning_seconds(r.history) for r in mine),
            **{k: sum(getattr(r, k) for r in mine) for k in ("llm_s", "cost_model_s", "build_s", "run_s")},
            "llm_calls": calls,
            "llm_compute_token_params": compute,
            "lineages": lineages,
            "invalid_proposals": sum(u["invalid"] + u["duplicate"] for r in mine for u in r.llm.values()),
            "large_model_call_share": (float(np.mean([r.large_model_call_share for r in mine if r.llm]))
                                       if any(r.llm for r in mine) else 0.0),
            "large_model_call_share_by_run": [r.large_model_call_share for r in mine if r.llm],
            "llm_expansion_share_by_run": [share for r in mine if (share := llm_expansion_share(r)) is not None],
            "roofline_fraction": {w: float(np.mean(v)) for w, v in roofline_fraction.items()},
            "peers": {k: float(np.mean([getattr(r, k) for r in mine])) for k in ("onnxruntime_latency_s", "torch_latency_s")
                      if mine and all(getattr(r, k) is not None for r in mine)},
            "tuned_latency_s": {r.workload: r.final_s() for r in mine},
        }
    return result


def vs_onnxruntime(runs: list[TuneReport], strategies: list[str]) -> dict[str, dict[str, list[float]]]:
    """{workload: {strategy: [tuned / onnxruntime of each seed]}}, each ratio timed in alternation within
    its own run; runs without an onnxruntime peer are left out."""
    ratios: dict[str, dict[str, list[float]]] = {}
    for r in runs:
        if r.strategy in strategies and r.tuned_over_onnxruntime is not None:
            ratios.setdefault(r.workload, {}).setdefault(r.strategy, []).append(r.tuned_over_onnxruntime)
    return ratios


def summarize_warm(runs: list[TuneReport], trials: int) -> dict:
    """Per mode: geomean speedup over seeds at each checkpoint; per seed: trials and seconds cold and warm
    needed to reach cold's final best latency ("100%") and 95% of its speedup ("95%"), None for never."""
    checkpoints = [c for c in CHECKPOINTS if c <= trials] or [trials]
    result: dict = {"checkpoints": checkpoints, "modes": {}, "seeds": []}
    for mode in ("cold", "warm"):
        mine = [r for r in runs if r.mode == mode]
        result["modes"][mode] = {
            "speedup_at": {c: geomean(speedups) for c in checkpoints
                           if len(speedups := [r.baseline_s() / best for r in mine
                                               if (best := best_latency_at(r.history, c))]) == len(mine)},
            "final_speedup_geomean": geomean([r.final_speedup_or_own() for r in mine]),
            "wall_s": sum(r.wall_s for r in mine),
        }
    for seed in sorted({r.seed for r in runs if r.mode == "cold"}):
        pair = {r.mode: r for r in runs if r.seed == seed and r.mode in ("cold", "warm")}
        if len(pair) < 2:
            continue
        best = best_latency_at(pair["cold"].history, trials)
        row = {"seed": seed, "cold_best_s": best}
        for share in (1.0, 0.95):
            goal = best / share
            row[f"{share:.0%}"] = {f"{mode}_{unit}": reach(pair[mode].history, goal)
                                   for mode in ("cold", "warm")
                                   for unit, reach in (("trials", trials_to_reach), ("seconds", seconds_to_reach))}
        result["seeds"].append(row)
    return result
