"""One `litecoop tune` run from user options to report: validation, progress bar, measurements."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from . import latency, peers, records, search_settings, strategies, timing, tuner, workloads
from .errors import UserError
from .provenance import provenance
from .report import print_summary
from .targets import describe, load_rpc_config, load_target

THREADS = len(os.sched_getaffinity(0))  # the peers' intra-op threads: every core this process may use


DEFAULT_TRIALS = 64


def run_tune(*, workload: str, target_name: str, strategy: str, trials: int | None, seed: int, work_dir: Path,
             resume: bool, search_preset: str = "default", models_preset: str = "local-cpu", console: Console | None = None,
             measure_peers: bool = True, warm_start: Path | None = None, time_budget_s: float | None = None,
             fresh: bool = False) -> dict:
    """Tune and measure; returns the report dict (keys listed in the README).

    The search stops after `trials` measured trials (DEFAULT_TRIALS when neither budget is given) or
    `time_budget_s` seconds of search, whichever comes first; setup, the final build and measurements come
    on top. The run's records are kept in the user's store (`records.cache_dir`); unless `fresh`, the
    records kept there by earlier runs of the workload on this target seed the search. `warm_start`: a
    work dir whose records (of this or a similar shape) seed the search. With `measure_peers`, onnxruntime
    and torch eager are timed in alternation with the tuned build, on as many threads as this process may
    use. Raises UserError on bad input."""
    started = time.perf_counter()
    console = console or Console(stderr=True)
    trials = DEFAULT_TRIALS if trials is None and time_budget_s is None else trials
    if trials is not None and trials <= 0:
        raise UserError(f"--trials must be positive, got {trials}")
    if time_budget_s is not None and time_budget_s <= 0:
        raise UserError(f"--time-budget must be positive, got {time_budget_s:g} s")
    strategies.get(strategy)
    target = load_target(target_name)
    device = latency.device_of(target)
    rpc_config = load_rpc_config(target_name)
    settings, per_iter, run_timeout_s = search_settings.from_preset(search_preset)
    warm_records = tuner.warm_start_records(warm_start) if warm_start else ()
    timing.reset()
    work = workloads.load(workload, seed)
    team = strategies.make_team(strategy, models_preset, seed)
    budget = " ".join(part for part in (f"{trials} trials" if trials else "",
                                        f"{time_budget_s:g} s" if time_budget_s else "") if part)
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("best {task.fields[best]}"), TimeElapsedColumn(), console=console) as bar:
        task = bar.add_task(f"{work.name} {strategy} ({budget})", total=trials, best="-")

        def on_batch(count: int, best_s: float) -> None:
            bar.update(task, advance=count, best=f"{best_s * 1e3:.3f} ms")

        outcome = tuner.tune(work, target, strategy, trials, seed, work_dir, resume, settings, per_iter,
                             run_timeout_s, on_batch, team, rpc_config, warm_records,
                             time_budget_s=time_budget_s, cache_dir=records.cache_dir(work, target), reuse=not fresh)
    args = latency.device_inputs(work.inputs, device)
    tuned_sampler, output = latency.vm_sampler(outcome.executable, args, device)
    cpu_peers = measure_peers and target.kind.name == "llvm"
    contenders = {"tuned": tuned_sampler, **(peers.samplers(work, THREADS) if cpu_peers else {})}
    samples = dict(zip(contenders, timing.interleave(list(contenders.values()), repeat=10)))
    median = {name: float(np.median(series)) for name, series in samples.items()}
    tuned_s = median["tuned"]
    library = work_dir / "tuned.so"
    outcome.executable.export_library(str(library))
    untuned_s = float(np.median(latency.latency_samples(tuner.untuned_executable(work, target), args, device, 3)[0]))
    error = float(np.max(np.abs(output.astype(np.float32) - work.reference)))
    wall = time.perf_counter() - started
    usage = outcome.team.usage_report() if outcome.team else {"llm": {}, "large_model_call_share": 0.0, "llm_s": 0.0,
                                                            "llm_load_s": 0.0}
    split = {f"{k}_s": timing.seconds.get(k, 0.0) for k in ("cost_model", "build", "run")}
    report = {
        "workload": work.name, "workload_spec": workload, "target": describe(target), "target_preset": target_name,
        "strategy": strategy, "trials": trials, "time_budget_s": time_budget_s, "seed": seed,
        "provenance": provenance(search_preset=search_preset, models_preset=models_preset, target_preset=target_name),
        "tuned_over_onnxruntime": tuned_s / median["onnxruntime"] if "onnxruntime" in median else None,
        "onnxruntime_latency_s": median.get("onnxruntime"), "torch_latency_s": median.get("torch"),
        "peer_threads": THREADS if cpu_peers else None,
        "trials_measured_this_run": outcome.trials_run, "tasks": outcome.tasks, "per_task": outcome.per_task,
        "records_from_earlier_runs": outcome.reused_records, "search_s": outcome.search_s,
        "untuned_latency_s": untuned_s, "tuned_latency_s": tuned_s, "tuned_samples_s": samples["tuned"], "speedup": untuned_s / tuned_s,
        "peer_samples_s": {name: series for name, series in samples.items() if name != "tuned"},
        "correct": work.is_correct(error), "max_abs_error": error,
        "wall_s": wall, "llm_s": usage["llm_s"], "llm_load_s": usage["llm_load_s"], **split,
        "other_s": wall - usage["llm_s"] - usage["llm_load_s"] - sum(split.values()),
        "llm": usage["llm"], "large_model_call_share": usage["large_model_call_share"],
        "lineages": {origin: dataclasses.asdict(outcome) for origin, outcome in outcome.lineages.items()},
        "history": outcome.history, "flops": work.flops, "bytes": work.bytes, "work_dir": str(work_dir),
        "warm_start": str(warm_start) if warm_start else None,
        "library": str(library), "library_sha256": hashlib.sha256(library.read_bytes()).hexdigest(),
    }
    if measure_peers and target.kind.name == "cuda" and work.torch_module is not None:
        report.update(peers.torch_cuda_latencies(work.torch_module, work.inputs))
    print_summary(report, console)
    return report
