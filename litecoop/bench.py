"""`litecoop bench`: strategies compared in one invocation, interleaved, under BENCHMARKS.md's protocol.

Per (seed, workload, strategy) one `litecoop tune` run; then per strategy the geometric mean over
workloads of the speedup at each trial checkpoint and at equal wall time (one untuned baseline per workload,
timed with the final re-timing / best measured latency so far, the latter estimated as the weighted sum of
each task's best), its spread over seeds, wall time split, LLM compute (tokens x parameters), what each
proposer's lineage found per 100 trials and per 100 seconds, and each tuned kernel's fraction of its
roofline bound.
Finished runs are kept in `runs.jsonl`, so an interrupted bench resumes where it stopped.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path

import numpy as np
import tvm
from rich.console import Console

from . import roofline, verdicts
from .errors import UserError
from .history import best_latency_at, best_latency_within, seconds_to_reach, trials_to_reach, tuning_seconds
from .session import run_tune
from .strategies import get as get_strategy
from .provenance import provenance
from .targets import load_target
from .latency import device_inputs, device_of, interleaved_latency_samples
from .tuner import untuned_executable
from .workloads import KERNELS
from .workloads import load as load_workload

CHECKPOINTS = (8, 16, 32, 64, 128, 256, 512)


def load_runs(log: Path) -> list[dict]:
    """The finished runs of a resume log (one JSON report per line); none if it does not exist yet."""
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def append_run(log: Path, runs: list[dict], report: dict) -> None:
    """Keep a finished run in memory and in the resume log (one JSON line)."""
    runs.append(report)
    with log.open("a") as stream:
        stream.write(json.dumps(report, default=float) + "\n")


def remeasure_finals(runs: list[dict], console: Console) -> None:
    """Time every run's tuned library of a workload again, together with one untuned build of the workload,
    all in one interleaved series (`latency.interleaved_latency_samples`: U A B C U A B C ...) on the device of
    the runs' target, so that the final speedups of a comparison share one machine state and one baseline;
    each run's own end-of-tune timing drifts with load from one run to the next. Sets each run's
    `baseline_latency_s` (the common untuned median), `final_latency_s` (median, seconds) and `final_speedup`;
    runs whose library is gone keep their own timing."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for r in runs:
        if Path(r.get("library", "")).is_file():
            groups.setdefault((r["workload_spec"], r.get("target_preset", "host")), []).append(r)
    for (spec, target_name), group in groups.items():
        console.print(f"re-timing {len(group)} tuned builds of {spec} and its untuned build, interleaved")
        workload, target = load_workload(spec), load_target(target_name)
        device = device_of(target)
        untuned = untuned_executable(workload, target)
        libraries = [tvm.runtime.load_module(r["library"]) for r in group]
        samples, _ = interleaved_latency_samples([untuned, *libraries], device_inputs(workload.inputs, device), device)
        baseline = float(np.median(samples[0]))
        for r, series in zip(group, samples[1:]):
            r["baseline_latency_s"] = baseline
            r["final_latency_s"] = float(np.median(series))
            r["final_speedup"] = baseline / r["final_latency_s"]


def baseline_s(run: dict) -> float:
    """The untuned latency a run's speedups divide: its workload's common baseline when `remeasure_finals`
    timed one, else the run's own untuned timing."""
    return run.get("baseline_latency_s", run["untuned_latency_s"])


def final_latency_s(run: dict) -> float:
    """The run's tuned latency: re-timed with its peers when `remeasure_finals` could, else its own."""
    return run.get("final_latency_s", run["tuned_latency_s"])


def final_speedup(run: dict) -> float:
    return run.get("final_speedup", run["speedup"])


def equal_wall_seconds(runs: list[dict]) -> dict[tuple[int, str], float]:
    """Per (seed, workload): the tuning seconds of the strategy that finished first, the point where all
    strategies of the comparison are judged at equal wall time."""
    seconds: dict[tuple[int, str], float] = {}
    for r in runs:
        key = (r["seed"], r["workload"])
        seconds[key] = min(seconds.get(key, math.inf), tuning_seconds(r["history"]))
    return seconds


def lineage_seconds(run: dict) -> dict[str, float]:
    """Seconds each lineage of a run cost: its measured trials at the run's mean build+run seconds per trial,
    plus, for an LLM, its own call seconds."""
    per_trial = (run["build_s"] + run["run_s"]) / max(run.get("trials_measured_this_run", 0), 1)
    return {origin: outcome["measured"] * per_trial + run["llm"].get(origin, {}).get("seconds", 0.0)
            for origin, outcome in run.get("lineages", {}).items()}


def geomean(values: list[float]) -> float:
    return float(math.exp(np.mean(np.log(values)))) if values else float("nan")


def run_bench(suite: str, strategies: list[str], trials: int, seeds: int, out: Path, kernels: list[str] | None = None,
              models_preset: str = "local-cpu", search_preset: str = "default", console: Console | None = None) -> dict:
    """Run (or resume) the comparison and write bench.json, bench.md and the plots into `out`."""
    console = console or Console(stderr=True)
    for strategy in strategies:
        get_strategy(strategy)
    workloads = ["minilm"] if suite == "minilm" else (kernels or list(KERNELS))
    if suite not in ("kernels", "minilm") or any(w not in KERNELS + ("minilm",) for w in workloads):
        raise UserError(f"unknown suite '{suite}' or kernel in {workloads}")
    out.mkdir(parents=True, exist_ok=True)
    log = out / "runs.jsonl"
    runs = load_runs(log)
    done = {(r["seed"], r["workload"], r["strategy"]) for r in runs}
    meta = provenance(search_preset=search_preset, models_preset=models_preset)
    for seed in range(seeds):
        for workload in workloads:
            for strategy in strategies:
                if (seed, workload, strategy) in done:
                    continue
                console.print(f"[bold]seed {seed} {workload} {strategy}[/bold]")
                report = run_tune(workload=workload, target_name="host", strategy=strategy, trials=trials, seed=seed,
                                  work_dir=out / "runs" / f"{workload}-{strategy}-s{seed}", resume=True,
                                  search_preset=search_preset, models_preset=models_preset, console=console,
                                  fresh=True)
                append_run(log, runs, report)
    remeasure_finals(runs, console)
    summary = summarize(runs, strategies, trials)
    (out / "bench.json").write_text(json.dumps({"provenance": meta, "summary": summary, "runs": runs}, indent=2,
                                               default=float))
    (out / "bench.md").write_text(f"Command: `{meta['command']}` at commit {meta['commit']}; {meta['machine']}.\n\n"
                                  + markdown(summary) + vs_onnxruntime_table(runs, strategies)
                                  + "\nTargets of the benchmark issue:\n\n" + verdicts.markdown(verdicts.verdicts(summary, runs)))
    plot(runs, summary, strategies, out)
    plot_vs_onnxruntime(runs, strategies, out)
    return summary


def summarize(runs: list[dict], strategies: list[str], trials: int) -> dict:
    """Per strategy: speedup geomean per checkpoint and at equal wall time (mean, min, max over seeds), final
    measured speedup, wall split, LLM compute, lineage rates, roofline fractions."""
    peak, bandwidth = roofline.peak_flops(), roofline.memory_bandwidth()
    checkpoints = [c for c in CHECKPOINTS if c <= trials] or [trials]
    equal_wall = equal_wall_seconds(runs)
    result = {"peak_flops": peak, "memory_bandwidth_Bps": bandwidth, "checkpoints": checkpoints, "strategies": {}}
    for strategy in strategies:
        mine = [r for r in runs if r["strategy"] == strategy]
        seeds = sorted({r["seed"] for r in mine})
        per_seed: dict[int, dict[int, float]] = {c: {} for c in checkpoints}
        at_equal_wall: dict[int, float] = {}
        for seed in seeds:
            group = [r for r in mine if r["seed"] == seed]
            for c in checkpoints:
                speedups = [baseline_s(r) / best for r in group if (best := best_latency_at(r["history"], c))]
                if len(speedups) == len(group):
                    per_seed[c][seed] = geomean(speedups)
            if group:  # a strategy with nothing measured yet at that time gives the user the untuned build
                at_equal_wall[seed] = geomean([baseline_s(r) / (best_latency_within(
                    r["history"], equal_wall[(seed, r["workload"])]) or baseline_s(r)) for r in group])
        finals = [geomean([final_speedup(r) for r in mine if r["seed"] == s]) for s in seeds]
        compute = {}
        for r in mine:
            for name, usage in r["llm"].items():
                compute[name] = compute.get(name, 0.0) + usage["compute_token_params"]
        calls = sum(u["calls"] for r in mine for u in r["llm"].values())
        lineages: dict[str, Counter] = {}
        for r in mine:
            for origin, outcome in r.get("lineages", {}).items():
                lineages.setdefault(origin, Counter()).update(outcome)
            for origin, seconds in lineage_seconds(r).items():
                lineages[origin]["seconds"] += seconds
        roofline_fraction = {}
        for r in mine:
            if r["flops"]:
                bound = roofline.bound_s(r["flops"], r["bytes"], peak, bandwidth)
                roofline_fraction.setdefault(r["workload"], []).append(bound / final_latency_s(r))
        result["strategies"][strategy] = {
            "speedup_at": {c: {"mean": float(np.mean(list(v.values()))), "min": min(v.values()), "max": max(v.values())}
                           for c, v in per_seed.items() if v},
            "speedup_at_by_seed": {c: v for c, v in per_seed.items() if v},
            "speedup_at_equal_wall_by_seed": at_equal_wall,
            "final_speedup_by_seed": dict(zip(seeds, finals)),
            "final_speedup_geomean": float(np.mean(finals)) if finals else float("nan"),
            "final_speedup_spread": [min(finals), max(finals)] if finals else [],
            "correct": all(r["correct"] for r in mine),
            "wall_s": sum(r["wall_s"] for r in mine),
            "tuning_s": sum(tuning_seconds(r["history"]) for r in mine),
            **{k: sum(r[k] for r in mine) for k in ("llm_s", "cost_model_s", "build_s", "run_s")},
            "llm_calls": calls,
            "llm_compute_token_params": compute,
            "lineages": lineages,
            "invalid_proposals": sum(u["invalid"] + u["duplicate"] for r in mine for u in r["llm"].values()),
            "large_model_call_share": (float(np.mean([r["large_model_call_share"] for r in mine if r["llm"]]))
                                       if any(r["llm"] for r in mine) else 0.0),
            "roofline_fraction": {w: float(np.mean(v)) for w, v in roofline_fraction.items()},
            "peers": {k: float(np.mean([r[k] for r in mine])) for k in ("onnxruntime_latency_s", "torch_latency_s")
                      if all(r.get(k) is not None for r in mine) and mine},
            "tuned_latency_s": {r["workload"]: final_latency_s(r) for r in mine},
        }
    return result


def markdown(summary: dict) -> str:
    """The summary as Markdown tables."""
    checkpoints = summary["checkpoints"]
    lines = [f"Machine: peak {summary['peak_flops'] / 1e9:.1f} GFLOP/s (FMA microbenchmark), "
             f"bandwidth {summary['memory_bandwidth_Bps'] / 1e9:.1f} GB/s (copy).", "",
             "Geometric-mean speedup over workloads (one untuned baseline per workload) after N measured trials, "
             "and at equal wall time (when the first strategy of each workload and seed finished tuning); "
             "mean over seeds [min, max]:", "",
             "| strategy | " + " | ".join(str(c) for c in checkpoints) + " | equal wall time | final (re-timed together) "
             "| correct |", "|---" * (len(checkpoints) + 4) + "|"]

    def spread(values) -> str:
        return f"{np.mean(values):.1f} [{min(values):.1f}, {max(values):.1f}]" if values else "-"

    for name, s in summary["strategies"].items():
        cells = [spread(list(s["speedup_at_by_seed"][c].values())) if c in s["speedup_at_by_seed"] else "-"
                 for c in checkpoints]
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {spread(list(s['speedup_at_equal_wall_by_seed'].values()))}"
                     f" | {s['final_speedup_geomean']:.1f} | {s['correct']} |")
    lines += ["", "| strategy | wall s | llm s | cost model s | build s | run s | LLM calls | invalid/dup | "
              "larger-model share | LLM compute (tokens x params) |", "|---" * 10 + "|"]
    for name, s in summary["strategies"].items():
        compute = ", ".join(f"{m}: {v:.2e}" for m, v in s["llm_compute_token_params"].items()) or "-"
        lines.append(f"| {name} | {s['wall_s']:.0f} | {s['llm_s']:.0f} | {s['cost_model_s']:.0f} | {s['build_s']:.0f} | "
                     f"{s['run_s']:.0f} | {s['llm_calls']} | {s['invalid_proposals']} | "
                     f"{s['large_model_call_share']:.0%} | {compute} |")
    lines += ["", "Fraction of the roofline bound reached (bound / tuned latency):", "",
              "| strategy | " + " | ".join(sorted({w for s in summary['strategies'].values() for w in s['roofline_fraction']}))
              + " |"]
    workloads = sorted({w for s in summary["strategies"].values() for w in s["roofline_fraction"]})
    lines.append("|---" * (len(workloads) + 1) + "|")
    for name, s in summary["strategies"].items():
        lines.append(f"| {name} | " + " | ".join(f"{s['roofline_fraction'].get(w, float('nan')):.1%}" for w in workloads) + " |")
    lines += lineage_table(summary)
    return "\n".join(lines) + "\n"


def lineage_table(summary: dict) -> list[str]:
    """Markdown lines: per tree strategy and origin (the proposer a node's edits descend from), the trials
    measured and the new bests found, summed over runs; "own" counts the proposer's children, not their
    rollouts. Empty when no run recorded lineages."""
    rows = [(name, origin, o) for name, s in summary["strategies"].items() for origin, o in s.get("lineages", {}).items()]
    if not rows:
        return []
    lines = ["", "Where the measured trials and the new bests came from (origin: the proposer whose edit a node "
             "descends from; own: its own children, not their rollouts; summed over runs):", "",
             "| strategy | origin | nodes | trials (own) | new bests (own) | new bests per 100 trials | seconds "
             "| new bests per 100 s |", "|---" * 8 + "|"]
    for name, origin, o in rows:
        rate = f"{100 * o['new_bests'] / o['measured']:.1f}" if o["measured"] else "-"
        per_second = f"{100 * o['new_bests'] / o['seconds']:.2f}" if o.get("seconds") else "-"
        lines.append(f"| {name} | {origin} | {o['added']} | {o['measured']} ({o['own_measured']}) | "
                     f"{o['new_bests']} ({o['own_new_bests']}) | {rate} | {o.get('seconds', 0):.0f} | {per_second} |")
    return lines


def vs_onnxruntime(runs: list[dict], strategies: list[str]) -> dict[str, dict[str, list[float]]]:
    """{workload: {strategy: [tuned / onnxruntime of each seed]}}, each ratio timed in alternation within
    its own run; runs without an onnxruntime peer are left out."""
    ratios: dict[str, dict[str, list[float]]] = {}
    for r in runs:
        if r["strategy"] in strategies and r.get("tuned_over_onnxruntime") is not None:
            ratios.setdefault(r["workload"], {}).setdefault(r["strategy"], []).append(r["tuned_over_onnxruntime"])
    return ratios


def vs_onnxruntime_table(runs: list[dict], strategies: list[str]) -> str:
    """Markdown: per workload and strategy, tuned latency / onnxruntime latency on the same threads
    (geomean over seeds [min, max]; below 1 is faster than onnxruntime)."""
    ratios = vs_onnxruntime(runs, strategies)
    if not ratios:
        return ""
    lines = ["", "tuned / onnxruntime (same threads, timed in alternation in each run; geomean over seeds "
             "[min, max]; < 1: faster than onnxruntime):", "",
             "| workload | " + " | ".join(strategies) + " |", "|---" * (len(strategies) + 1) + "|"]
    for workload, by_strategy in ratios.items():
        cells = [f"{geomean(v):.2f} [{min(v):.2f}, {max(v):.2f}]" if (v := by_strategy.get(name)) else "-"
                 for name in strategies]
        lines.append(f"| {workload} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def plot_vs_onnxruntime(runs: list[dict], strategies: list[str], out: Path) -> None:
    """vs_onnxruntime.png: tuned / onnxruntime per workload, one bar per strategy (geomean over seeds,
    whiskers min-max), the parity line at 1."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

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
    fig.savefig(out / "vs_onnxruntime.png", dpi=120, bbox_inches="tight")
    plt.close(fig)


def plot(runs: list[dict], summary: dict, strategies: list[str], out: Path) -> None:
    """speedup_vs_trials.png, speedup_vs_seconds.png, llm_compute.png."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for name, s in summary["strategies"].items():
        points = sorted((int(c), v["mean"], v["mean"] - v["min"], v["max"] - v["mean"]) for c, v in s["speedup_at"].items())
        if points:
            trials, means, below, above = zip(*points)
            ax.errorbar(trials, means, yerr=[below, above], marker="o", capsize=3, label=name)
    ax.set(xscale="log", xlabel="measured trials", ylabel="geomean speedup (mean, seed min-max)",
           title="Best speedup vs trials")
    ax.legend()
    fig.savefig(out / "speedup_vs_trials.png", dpi=120, bbox_inches="tight")
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6, 4))
    for strategy in strategies:
        for i, r in enumerate(r for r in runs if r["strategy"] == strategy and r["seed"] == 0):
            xs = [elapsed for _, total, elapsed in r["history"] if total > 0]
            ys = [baseline_s(r) / best_latency_at(r["history"], count) for count, total, _ in r["history"] if total > 0]
            ax.plot(xs, ys, color=f"C{strategies.index(strategy)}", alpha=0.8, label=strategy if i == 0 else None)
    ax.set(yscale="log", xlabel="tuning wall-clock seconds (LLM included)", ylabel="speedup (per workload, seed 0)",
           title="Best speedup vs wall time")
    ax.legend()
    fig.savefig(out / "speedup_vs_seconds.png", dpi=120, bbox_inches="tight")
    plt.close(fig)

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
    fig.savefig(out / "llm_compute.png", dpi=120, bbox_inches="tight")
    plt.close(fig)


def run_warm_bench(source: str, target: str, strategy: str, trials: int, seeds: int, out: Path,
                   search_preset: str = "default", models_preset: str = "local-cpu",
                   console: Console | None = None) -> dict:
    """Measure what a warm start saves: tune `source` once, then `target` cold and warm-started from the
    source's records, alternating per seed (same trials, same strategy). Writes warm.json, warm.md and
    warm_speedup_vs_trials.png into `out`; finished runs are kept in warm_runs.jsonl (resumable)."""
    console = console or Console(stderr=True)
    out.mkdir(parents=True, exist_ok=True)
    log = out / "warm_runs.jsonl"
    runs = load_runs(log)
    done = {(r["seed"], r["mode"]) for r in runs}
    source_dir = out / "runs" / f"source-{strategy}"

    def tune(workload: str, seed: int, work_dir: Path, warm_start: Path | None = None) -> dict:
        return run_tune(workload=workload, target_name="host", strategy=strategy, trials=trials, seed=seed,
                        work_dir=work_dir, resume=True, search_preset=search_preset, models_preset=models_preset,
                        console=console, measure_peers=False, warm_start=warm_start, fresh=True)

    if not any(r["mode"] == "source" for r in runs):
        console.print(f"[bold]source {source} {strategy}[/bold]")
        append_run(log, runs, {**tune(source, 0, source_dir), "mode": "source"})
    for seed in range(seeds):
        for mode in ("cold", "warm"):
            if (seed, mode) in done:
                continue
            console.print(f"[bold]seed {seed} {target} {mode}[/bold]")
            report = tune(target, seed, out / "runs" / f"target-{mode}-s{seed}", source_dir if mode == "warm" else None)
            append_run(log, runs, {**report, "mode": mode})
    remeasure_finals([r for r in runs if r["mode"] != "source"], console)
    summary = summarize_warm(runs, trials)
    (out / "warm.json").write_text(json.dumps({"summary": summary, "runs": runs}, indent=2, default=float))
    (out / "warm.md").write_text(markdown_warm(summary, source, target, strategy))
    plot_warm(runs, out)
    return summary


def summarize_warm(runs: list[dict], trials: int) -> dict:
    """Per mode: geomean speedup over seeds at each checkpoint; per seed: trials and seconds cold and warm
    needed to reach cold's final best latency ("100%") and 95% of its speedup ("95%"), None for never."""
    checkpoints = [c for c in CHECKPOINTS if c <= trials] or [trials]
    result: dict = {"checkpoints": checkpoints, "modes": {}, "seeds": []}
    for mode in ("cold", "warm"):
        mine = [r for r in runs if r["mode"] == mode]
        result["modes"][mode] = {
            "speedup_at": {c: geomean(speedups) for c in checkpoints
                           if len(speedups := [baseline_s(r) / best for r in mine
                                               if (best := best_latency_at(r["history"], c))]) == len(mine)},
            "final_speedup_geomean": geomean([final_speedup(r) for r in mine]),
            "wall_s": sum(r["wall_s"] for r in mine),
        }
    for seed in sorted({r["seed"] for r in runs if r["mode"] == "cold"}):
        pair = {r["mode"]: r for r in runs if r["seed"] == seed and r["mode"] in ("cold", "warm")}
        if len(pair) < 2:
            continue
        best = best_latency_at(pair["cold"]["history"], trials)
        row = {"seed": seed, "cold_best_s": best}
        for share in (1.0, 0.95):
            goal = best / share
            row[f"{share:.0%}"] = {f"{mode}_{unit}": reach(pair[mode]["history"], goal)
                                   for mode in ("cold", "warm")
                                   for unit, reach in (("trials", trials_to_reach), ("seconds", seconds_to_reach))}
        result["seeds"].append(row)
    return result


def markdown_warm(summary: dict, source: str, target: str, strategy: str) -> str:
    """The warm-start summary as Markdown tables."""
    checkpoints = summary["checkpoints"]
    lines = [f"Warm start: `{target}` tuned cold and from the records of `{source}` ({strategy}).", "",
             "Geometric-mean speedup over seeds after N measured trials:", "",
             "| start | " + " | ".join(str(c) for c in checkpoints) + " | final (re-timed together) | wall s |",
             "|---" * (len(checkpoints) + 3) + "|"]
    for mode, s in summary["modes"].items():
        lines.append(f"| {mode} | " + " | ".join(f"{s['speedup_at'][c]:.2f}" if c in s["speedup_at"] else "-"
                                                 for c in checkpoints)
                     + f" | {s['final_speedup_geomean']:.2f} | {s['wall_s']:.0f} |")
    lines += ["", "Trials (and tuning seconds) to reach the cold run's final best latency, and 95% of its speedup:", "",
              "| seed | cold best ms | cold trials | warm trials | cold s | warm s | cold trials 95% | warm trials 95% |",
              "|---" * 8 + "|"]

    def cell(value, fmt="{}"):
        return "never" if value is None else fmt.format(value)

    for row in summary["seeds"]:
        full, near = row["100%"], row["95%"]
        lines.append(f"| {row['seed']} | {row['cold_best_s'] * 1e3:.3f} | {cell(full['cold_trials'])} | "
                     f"{cell(full['warm_trials'])} | {cell(full['cold_seconds'], '{:.0f}')} | "
                     f"{cell(full['warm_seconds'], '{:.0f}')} | {cell(near['cold_trials'])} | {cell(near['warm_trials'])} |")
    return "\n".join(lines) + "\n"


def plot_warm(runs: list[dict], out: Path) -> None:
    """warm_speedup_vs_trials.png: best speedup vs measured trials, cold and warm, one line per seed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for color, mode in enumerate(("cold", "warm")):
        for i, r in enumerate(r for r in runs if r["mode"] == mode):
            points = [(count, baseline_s(r) / best_latency_at(r["history"], count))
                      for count, total, _ in r["history"] if total > 0]
            ax.plot(*zip(*points), color=f"C{color}", marker=".", alpha=0.8, label=mode if i == 0 else None)
    ax.set(xlabel="measured trials", ylabel="speedup over untuned", title="Warm start vs cold start")
    ax.legend()
    fig.savefig(out / "warm_speedup_vs_trials.png", dpi=120, bbox_inches="tight")
    plt.close(fig)
