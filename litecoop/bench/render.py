"""`litecoop bench` output: the summaries of `bench_stats` as Markdown tables and matplotlib plots."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from litecoop.measure import roofline
from litecoop.bench.stats import geomean, vs_onnxruntime
from litecoop.report.history import best_latency_at
from litecoop.report.plots import pyplot, save
from litecoop.report.tune_report import TuneReport
from litecoop.report.tables import markdown_table


SPEEDUP_COLUMNS = ("equal wall time", "final (re-timed together)", "correct")
COST_COLUMNS = ("strategy", "wall s", "llm s", "cost model s", "build s", "run s", "LLM calls", "invalid/dup",
                "larger-model share", "LLM compute (tokens x params)")
LINEAGE_COLUMNS = ("strategy", "origin", "expansions", "nodes", "trials (own)", "new bests (own)",
                   "new bests per 100 trials", "seconds", "new bests per 100 s")


def _spread(values: list[float]) -> str:
    return f"{np.mean(values):.1f} [{min(values):.1f}, {max(values):.1f}]" if values else "-"


def _speedup_row(name: str, s: dict, checkpoints: list[int]) -> list[str]:
    at = s["speedup_at_by_seed"]
    return [name, *[_spread(list(at[c].values())) if c in at else "-" for c in checkpoints],
            _spread(list(s["speedup_at_equal_wall_by_seed"].values())), f"{s['final_speedup_mean_over_seeds']:.1f}",
            str(s["correct"])]


def _cost_row(name: str, s: dict) -> list[str]:
    compute = ", ".join(f"{m}: {v:.2e}" for m, v in s["llm_compute_token_params"].items()) or "-"
    return [name, *[f"{s[k]:.0f}" for k in ("wall_s", "llm_s", "cost_model_s", "build_s", "run_s")],
            str(s["llm_calls"]), str(s["invalid_proposals"]), f"{s['large_model_call_share']:.0%}", compute]


def markdown(summary: dict) -> str:
    """The summary as Markdown tables."""
    checkpoints, strategies = summary["checkpoints"], summary["strategies"]
    workloads = sorted({w for s in strategies.values() for w in s["roofline_fraction"]})
    speedups = markdown_table(["strategy", *map(str, checkpoints), *SPEEDUP_COLUMNS],
                              [_speedup_row(name, s, checkpoints) for name, s in strategies.items()])
    costs = markdown_table(list(COST_COLUMNS), [_cost_row(name, s) for name, s in strategies.items()])
    rooflines = markdown_table(["strategy", *workloads], [
        [name, *[f"{s['roofline_fraction'].get(w, float('nan')):.1%}" for w in workloads]]
        for name, s in strategies.items()])
    lines = [f"Machine: peak {summary['peak_flops'] / 1e9:.1f} GFLOP/s (FMA microbenchmark), "
             f"bandwidth {summary['memory_bandwidth_Bps'] / 1e9:.1f} GB/s (copy).", "",
             "Geometric-mean speedup over workloads (one untuned baseline per workload) after N measured trials, "
             "and at equal wall time (when the first strategy of each workload and seed finished tuning); "
             "mean over seeds [min, max]:", "", speedups, "", costs, "",
             "Fraction of the roofline bound reached (bound / tuned latency):", "", rooflines]
    return "\n".join(lines + lineage_table(summary)) + "\n"


def lineage_table(summary: dict) -> list[str]:
    """Markdown lines: per tree strategy and origin (the proposer a node's edits descend from), the tree expansions
    it made as the policy, the nodes added, the trials measured and the new bests found, summed over runs; "own"
    counts the proposer's children, not their rollouts. Empty when no run recorded lineages."""
    rows = [[name, origin, str(o.get("expansions", 0)), str(o["added"]), f"{o['measured']} ({o['own_measured']})",
             f"{o['new_bests']} ({o['own_new_bests']})",
             f"{100 * o['new_bests'] / o['measured']:.1f}" if o["measured"] else "-", f"{o.get('seconds', 0):.0f}",
             f"{100 * o['new_bests'] / o['seconds']:.2f}" if o.get("seconds") else "-"]
            for name, s in summary["strategies"].items() for origin, o in s.get("lineages", {}).items()]
    if not rows:
        return []
    return ["", "Where the measured trials and the new bests came from (origin: the proposer whose edit a node "
            "descends from; own: its own children, not their rollouts; summed over runs):", "",
            markdown_table(list(LINEAGE_COLUMNS), rows)]


def vs_onnxruntime_table(runs: list[TuneReport], strategies: list[str], peak: float, bandwidth: float) -> str:
    """Markdown: per workload and strategy, tuned latency / onnxruntime latency on the same threads
    (geomean over seeds [min, max]; below 1 is faster than onnxruntime), then what bounds the workload: its
    roofline bound (`roofline.bound_s` at `peak` FLOP/s and `bandwidth` bytes/s; "compute" or "memory", the
    slower) and the fraction of it that onnxruntime reaches (median over runs)."""
    ratios = vs_onnxruntime(runs, strategies)
    if not ratios:
        return ""
    rows = []
    for workload, by_strategy in ratios.items():
        run = next(r for r in runs if r.workload == workload)
        bound = roofline.bound_s(run.flops, run.bytes, peak, bandwidth)
        kind = "compute" if run.flops / peak >= run.bytes / bandwidth else "memory"
        ort = np.median([r.onnxruntime_latency_s for r in runs if r.workload == workload and r.onnxruntime_latency_s])
        rows.append([workload, *[f"{geomean(v):.2f} [{min(v):.2f}, {max(v):.2f}]" if (v := by_strategy.get(name))
                                 else "-" for name in strategies],
                     f"{kind}, {bound * 1e3:.3g} ms", f"{bound / ort:.0%}"])
    return "\n".join(["", "tuned / onnxruntime (same threads, timed in alternation in each run; geomean over seeds "
                      "[min, max]; < 1: faster than onnxruntime), the workload's roofline bound and the fraction of "
                      "it onnxruntime reaches (the tuned builds' fractions are in the roofline table above):", "",
                      markdown_table(["workload", *strategies, "roofline bound", "onnxruntime / bound"], rows)]) + "\n"


def plot_vs_onnxruntime(runs: list[TuneReport], strategies: list[str], out: Path) -> None:
    """vs_onnxruntime.png: tuned / onnxruntime per workload, one bar per strategy (geomean over seeds,
    whiskers min-max), the parity line at 1."""
    plt = pyplot()
    ratios = vs_onnxruntime(runs, strategies)
    fig, ax = plt.subplots(figsize=(max(6, 1.5 * len(ratios)), 4))
    width = 0.8 / len(strategies)
    groups = list(ratios.values())
    for i, name in enumerate(strategies):
        xs = [x for x, by_strategy in enumerate(groups) if name in by_strategy]
        values = [groups[x][name] for x in xs]
        means = [geomean(v) for v in values]
        ax.bar([x + i * width for x in xs], means, width, label=name,
               yerr=[[max(m - min(v), 0.0) for m, v in zip(means, values)],
                     [max(max(v) - m, 0.0) for m, v in zip(means, values)]])  # 0, not -1e-16, for one seed
    ax.axhline(1.0, color="black", linewidth=1)
    ax.set_xticks([x + width * (len(strategies) - 1) / 2 for x in range(len(ratios))], list(ratios), rotation=20)
    ax.set(ylabel="tuned / onnxruntime latency (< 1: faster)", title="Tuned TVM vs onnxruntime, same threads")
    ax.legend()
    save(fig, out / "vs_onnxruntime.png")


def plot(runs: list[TuneReport], summary: dict, strategies: list[str], out: Path) -> None:
    """speedup_vs_trials.png, speedup_vs_seconds.png, llm_compute.png."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, s in summary["strategies"].items():
        points = sorted((int(c), v["mean"], v["mean"] - v["min"], v["max"] - v["mean"]) for c, v in s["speedup_at"].items())
        if points:
            trials, means, below, above = zip(*points)
            ax.errorbar(trials, means, yerr=[below, above], marker="o", capsize=3, label=name)
    ax.set(xscale="log", xlabel="measured trials", ylabel="geomean speedup (mean, seed min-max)",
           title="Best speedup vs trials")
    ax.legend()
    save(fig, out / "speedup_vs_trials.png")

    fig, ax = plt.subplots(figsize=(6, 4))
    for strategy in strategies:
        for i, r in enumerate(r for r in runs if r.strategy == strategy and r.seed == 0):
            xs = [elapsed for _, total, elapsed in r.history if total > 0]
            ys = [r.baseline_s() / best_latency_at(r.history, count) for count, total, _ in r.history if total > 0]
            ax.plot(xs, ys, color=f"C{strategies.index(strategy)}", alpha=0.8, label=strategy if i == 0 else None)
    ax.set(yscale="log", xlabel="tuning wall-clock seconds (LLM included)", ylabel="speedup (per workload, seed 0)",
           title="Best speedup vs wall time")
    ax.legend()
    save(fig, out / "speedup_vs_seconds.png")

    fig, ax = plt.subplots(figsize=(6, 4))
    names = list(summary["strategies"])
    bottoms = np.zeros(len(names))
    models = sorted({m for s in summary["strategies"].values() for m in s["llm_compute_token_params"]})
    for model in models:
        values = np.array([summary["strategies"][n]["llm_compute_token_params"].get(model, 0.0) for n in names])
        ax.bar(names, values, bottom=bottoms, label=model)
        bottoms += values
    ax.set(ylabel="tokens x parameters", title="LLM compute per strategy")
    if models:
        ax.legend()
    save(fig, out / "llm_compute.png")


def markdown_warm(summary: dict, source: str, target: str, strategy: str) -> str:
    """The warm-start summary as Markdown tables."""
    checkpoints = summary["checkpoints"]

    def cell(value, fmt="{}"):  # None: never reached
        return "never" if value is None else fmt.format(value)

    speedups = markdown_table(["start", *map(str, checkpoints), "final (re-timed together)", "wall s"], [
        [mode, *[f"{s['speedup_at'][c]:.2f}" if c in s["speedup_at"] else "-" for c in checkpoints],
         f"{s['final_speedup_geomean']:.2f}", f"{s['wall_s']:.0f}"] for mode, s in summary["modes"].items()])
    reach = markdown_table(["seed", "cold best ms", "cold trials", "warm trials", "cold s", "warm s", "cold trials 95%",
                   "warm trials 95%"], [
        [str(row["seed"]), f"{row['cold_best_s'] * 1e3:.3f}", cell(full["cold_trials"]), cell(full["warm_trials"]),
         cell(full["cold_seconds"], "{:.0f}"), cell(full["warm_seconds"], "{:.0f}"), cell(near["cold_trials"]),
         cell(near["warm_trials"])] for row in summary["seeds"] for full, near in [(row["100%"], row["95%"])]])
    return "\n".join([f"Warm start: `{target}` tuned cold and from the records of `{source}` ({strategy}).", "",
                      "Geometric-mean speedup over seeds after N measured trials:", "", speedups, "",
                      "Trials (and tuning seconds) to reach the cold run's final best latency, and 95% of its speedup:",
                      "", reach]) + "\n"


def plot_warm(runs: list[TuneReport], out: Path) -> None:
    """warm_speedup_vs_trials.png: best speedup vs measured trials, cold and warm, one line per seed."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    for color, mode in enumerate(("cold", "warm")):
        for i, r in enumerate(r for r in runs if r.mode == mode):
            points = [(count, r.baseline_s() / best_latency_at(r.history, count))
                      for count, total, _ in r.history if total > 0]
            ax.plot(*zip(*points), color=f"C{color}", marker=".", alpha=0.8, label=mode if i == 0 else None)
    ax.set(xlabel="measured trials", ylabel="speedup over untuned", title="Warm start vs cold start")
    ax.legend()
    save(fig, out / "warm_speedup_vs_trials.png")
