"""`litecoop bench` and `litecoop bench-warm`: strategies compared in one invocation, over seeds, every final build
timed in one interleaved series against one common untuned baseline (docs/bench.md).

Per (seed, workload, strategy) one `litecoop tune` run (without peers); then every tuned library is timed again
with its workload's untuned build, onnxruntime and torch, all interleaved in one fresh process, so that final
speedups and ratios to the peers share one machine state and one baseline;
`bench_stats` summarizes the runs and `bench_render` writes the tables and plots.
Finished runs are kept in `runs.jsonl`, so an interrupted bench resumes where it stopped.
"""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console

from litecoop.bench import render, verdicts
from litecoop.bench.stats import summarize, summarize_warm
from litecoop.errors import UserError
from litecoop.artifact import save_executable
from litecoop.measure.final import time_fresh
from litecoop.report.provenance import provenance
from litecoop.report.run_log import append_run, load_runs
from litecoop.search.registry import get as get_strategy
from litecoop.targets import load_target
from litecoop.report.tune_report import TuneReport
from litecoop.tuning.run import THREADS, run_tune
from litecoop.tuning.config import TuneConfig
from litecoop.build.compiler import untuned_executable
from litecoop.workload import KERNELS
from litecoop.workload import load as load_workload


def run_bench(suite: str, strategies: list[str], trials: int | None, seeds: int, out: Path, kernels: list[str] | None = None,
              models_preset: str = "local-cpu", search_preset: str = "default", console: Console | None = None,
              report_only: bool = False, time_budget_s: float | None = None) -> dict:
    """Run (or resume) the comparison and write bench.json, bench.md and the plots into `out`. Each run stops
    after `trials` measured trials or `time_budget_s` seconds of search, whichever comes first (`trials` None
    with a budget: the budget alone, so strategies compare at equal search time; with neither: 64 trials). With
    `report_only`, tune nothing: report the seeds whose runs are all finished (a long bench's progress), and
    say in bench.md which were left out. Raises UserError for an unknown suite, kernel or strategy, or when
    `report_only` finds no finished seed."""
    console = console or Console(stderr=True)
    for strategy in strategies:
        get_strategy(strategy)
    workloads = ["minilm"] if suite == "minilm" else (kernels or list(KERNELS))
    if suite not in ("kernels", "minilm") or any(w not in KERNELS + ("minilm",) for w in workloads):
        raise UserError(f"unknown suite '{suite}' or kernel in {workloads}")
    out.mkdir(parents=True, exist_ok=True)
    log = out / "runs.jsonl"
    runs = load_runs(log, TuneReport.read)
    done = {(r.seed, r.workload, r.strategy) for r in runs}
    meta = provenance(search_preset=search_preset, models_preset=models_preset)
    for seed in range(0 if report_only else seeds):
        for workload in workloads:
            for strategy in strategies:
                if (seed, workload, strategy) in done:
                    continue
                console.print(f"[bold]seed {seed} {workload} {strategy}[/bold]")
                report = run_tune(TuneConfig.of(
                    workload=workload, strategy=strategy, trials=trials, time_budget_s=time_budget_s, seed=seed,
                    resume=True, fresh=True, measure_peers=False,
                    work_dir=out / "runs" / f"{workload}-{strategy}-s{seed}", search_preset=search_preset,
                    models_preset=models_preset), console, fresh_final=False)
                append_run(log, runs, report)
    finished = {(r.seed, r.workload, r.strategy) for r in runs}
    complete = [s for s in range(seeds) if all((s, w, g) in finished for w in workloads for g in strategies)]
    if not complete:
        raise UserError(f"no seed of {out / 'runs.jsonl'} has all its runs finished: nothing to report yet")
    left_out = "" if len(complete) == seeds else (
        f"Interim report: seeds {', '.join(map(str, complete))} of {seeds} (the others are not finished).\n\n")
    runs = [r for r in runs if r.seed in complete and r.workload in workloads and r.strategy in strategies]
    remeasure_finals(runs, console, out)
    summary = summarize(runs, strategies, trials or max(r.trials_measured_this_run for r in runs))
    (out / "bench.json").write_text(json.dumps({"provenance": meta, "summary": summary,
                                                "runs": [r.model_dump(mode="json") for r in runs]}, indent=2, default=float))
    (out / "bench.md").write_text(f"Command: `{meta['command']}` at commit {meta['commit']}; {meta['machine']}.\n\n"
                                  + left_out + render.markdown(summary) + render.vs_onnxruntime_table(
                                      runs, strategies, summary["peak_flops"], summary["memory_bandwidth_Bps"])
                                  + verdicts_section(summary))
    render.plot(runs, summary, strategies, out)
    render.plot_vs_onnxruntime(runs, strategies, out)
    return summary


def verdicts_section(summary: dict) -> str:
    """bench.md's verdicts on the LiteCoOp paper's claims that the run's strategies allow ("" for none)."""
    rows = verdicts.verdicts(summary)
    return "\nThe LiteCoOp paper's claims, measured:\n\n" + verdicts.markdown(rows) if rows else ""


BENCH_PEERS = ["onnxruntime", "torch"]  # the peers a strategy comparison reports (the zoo's yardstick has them all)


def remeasure_finals(runs: list[TuneReport], console: Console, out: Path, peers: list[str] | None = None) -> None:
    """Time every CPU run's saved build of a workload again, together with one untuned build of the workload and
    the `peers` (default BENCH_PEERS), in one fresh-process contest (`measure.final.time_fresh`: alternated,
    shuffled, called as users call them), so that the final speedups of a comparison share one machine state and
    one baseline; each run's own timing drifts with load from one run to the next. Sets each run's
    `baseline_latency_s` (the common untuned median), `final_latency_s` (median, seconds), `final_speedup`,
    `onnxruntime_latency_s`, `torch_latency_s` and `tuned_over_onnxruntime`, and `correct` false where the build's
    output on the contest's fresh inputs strays from the reference; runs whose build is gone, or on another target
    than a CPU, keep their own timing. The untuned builds are saved under `out/untuned/`."""
    groups: dict[tuple[str, str], list[TuneReport]] = {}
    for r in runs:
        if r.artifact and Path(r.artifact).is_dir():
            groups.setdefault((r.workload_spec, r.target_preset), []).append(r)
    for (spec, target_name), group in groups.items():
        target = load_target(target_name)
        if target.kind.name != "llvm":
            continue
        console.print(f"re-timing {len(group)} tuned builds of {spec} and its untuned build in a fresh process")
        workload = load_workload(spec)
        untuned = save_executable(out / "untuned" / spec.replace(":", "-"), untuned_executable(workload, target), spec,
                                  workload.inputs, target, THREADS)
        builds = {"untuned": untuned} | {f"run{i}": Path(r.artifact) for i, r in enumerate(group)}
        timings = {t.name: t for t in time_fresh(workload, builds, out / "untuned" / f"{spec.replace(':', '-')}-contest",
                                                 THREADS, peers=BENCH_PEERS if peers is None else peers)}
        baseline = timings["untuned"].latency_s
        ort, eager = (timings[name].latency_s if name in timings else None for name in ("onnxruntime", "torch"))
        for i, r in enumerate(group):
            if baseline and timings[f"run{i}"].latency_s:
                r.baseline_latency_s = baseline
                r.final_latency_s = timings[f"run{i}"].latency_s
                r.final_speedup = baseline / r.final_latency_s
                r.onnxruntime_latency_s, r.torch_latency_s = ort, eager
                r.tuned_over_onnxruntime = r.final_latency_s / ort if ort else None
            error = timings[f"run{i}"].max_abs_error
            r.correct = r.correct and (error is None or workload.is_correct(error))


def run_warm_bench(source: str, target: str, strategy: str, trials: int, seeds: int, out: Path,
                   search_preset: str = "default", models_preset: str = "local-cpu",
                   console: Console | None = None) -> dict:
    """Measure what a warm start saves: tune `source` once, then `target` cold and warm-started from the
    source's records, alternating per seed (same trials, same strategy). Writes warm.json, warm.md and
    warm_speedup_vs_trials.png into `out`; finished runs are kept in warm_runs.jsonl (resumable)."""
    console = console or Console(stderr=True)
    out.mkdir(parents=True, exist_ok=True)
    log = out / "warm_runs.jsonl"
    runs = load_runs(log, TuneReport.read)
    done = {(r.seed, r.mode) for r in runs}
    source_dir = out / "runs" / f"source-{strategy}"

    def tune(workload: str, seed: int, work_dir: Path, mode: str, warm_start: Path | None = None) -> TuneReport:
        report = run_tune(TuneConfig.of(workload=workload, strategy=strategy, trials=trials, seed=seed, resume=True,
                                        fresh=True, work_dir=work_dir, search_preset=search_preset,
                                        models_preset=models_preset, measure_peers=False, warm_start=warm_start),
                          console, fresh_final=False)
        return report.model_copy(update={"mode": mode})

    if not any(r.mode == "source" for r in runs):
        console.print(f"[bold]source {source} {strategy}[/bold]")
        append_run(log, runs, tune(source, 0, source_dir, "source"))
    for seed in range(seeds):
        for mode in ("cold", "warm"):
            if (seed, mode) in done:
                continue
            console.print(f"[bold]seed {seed} {target} {mode}[/bold]")
            append_run(log, runs, tune(target, seed, out / "runs" / f"target-{mode}-s{seed}", mode,
                                       source_dir if mode == "warm" else None))
    remeasure_finals([r for r in runs if r.mode != "source"], console, out, peers=[])
    summary = summarize_warm(runs, trials)
    (out / "warm.json").write_text(json.dumps({"summary": summary, "runs": [r.model_dump(mode="json") for r in runs]},
                                              indent=2, default=float))
    (out / "warm.md").write_text(render.markdown_warm(summary, source, target, strategy))
    render.plot_warm(runs, out)
    return summary
