"""One `litecoop tune` run from user options to report: validation, progress bar, measurements."""

from __future__ import annotations

import hashlib
import os
import time

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from . import latency, peers, records, search_settings, strategies, timing, tuner, workloads
from .provenance import provenance
from .report import TuneReport, budget, print_summary
from .targets import describe, load_rpc_config, load_target
from .tune_config import TuneConfig

THREADS = int(os.environ["TVM_NUM_THREADS"])  # the peers' intra-op threads: as many as TVM's pool (litecoop/__init__)


def run_tune(config: TuneConfig, console: Console | None = None) -> TuneReport:
    """Tune and measure as `config` asks; print and return the report.

    The run's records are kept in the user's store (`records.cache_dir`); unless `config.fresh`, the records
    kept there by earlier runs of the workload on this target seed the search. With `config.measure_peers`,
    onnxruntime and torch eager are timed in alternation with the tuned build, on as many threads as this
    process may use. Raises UserError on bad input (a preset, workload or target)."""
    started = time.perf_counter()
    console = console or Console(stderr=True)
    target = load_target(config.target)
    device = latency.device_of(target)
    rpc_config = load_rpc_config(config.target)
    settings = search_settings.from_preset(config.search_preset)
    warm_records = tuner.warm_start_records(config.warm_start) if config.warm_start else ()
    timing.reset()
    work = workloads.load(config.workload, config.seed)
    team = strategies.make_team(config.strategy, config.models_preset, config.seed)
    try:
        with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TextColumn("best {task.fields[best]}"), TimeElapsedColumn(), console=console) as bar:
            task = bar.add_task(f"{work.name} {config.strategy} ({budget(config)})", total=config.trials, best="-")

            def on_batch(count: int, best_s: float) -> None:
                bar.update(task, advance=count, best=f"{best_s * 1e3:.3f} ms")

            outcome = tuner.tune(work, target, config, settings, team=team, rpc_config=rpc_config,
                                 warm_start=warm_records, cache_dir=records.cache_dir(work, target), on_batch=on_batch)
        args = latency.device_inputs(work.inputs, device)
        tuned_sampler, output = latency.vm_sampler(outcome.executable, args, device)
        cpu_peers = config.measure_peers and target.kind.name == "llvm"
        contenders = {"tuned": tuned_sampler, **(peers.samplers(work, THREADS) if cpu_peers else {})}
        samples = dict(zip(contenders, timing.interleave(list(contenders.values()), repeat=10)))
        median = {name: float(np.median(series)) for name, series in samples.items()}
        tuned_s = median["tuned"]
        library = config.work_dir / "tuned.so"
        outcome.executable.export_library(str(library))
        untuned = tuner.untuned_executable(work, target)
        untuned_s = float(np.median(latency.latency_samples(untuned, args, device, 3)[0]))
        error = work.max_abs_error(output)
        wall = time.perf_counter() - started
        usage = outcome.team.usage_report() if outcome.team else {"llm": {}, "large_model_call_share": 0.0,
                                                                "llm_s": 0.0, "llm_load_s": 0.0}
        split = {f"{k}_s": timing.seconds.get(k, 0.0) for k in ("cost_model", "build", "run")}
        gpu_peers = (peers.torch_cuda_latencies(work.torch_module, work.inputs)
                     if config.measure_peers and target.kind.name == "cuda" and work.torch_module is not None else {})
        report = TuneReport(
            workload=work.name, workload_spec=config.workload, target=describe(target), target_preset=config.target,
            strategy=config.strategy, trials=config.trials, time_budget_s=config.time_budget_s, seed=config.seed,
            provenance=provenance(search_preset=config.search_preset, models_preset=config.models_preset,
                                  target_preset=config.target),
            tuned_over_onnxruntime=tuned_s / median["onnxruntime"] if "onnxruntime" in median else None,
            onnxruntime_latency_s=median.get("onnxruntime"), torch_latency_s=median.get("torch"),
            peer_threads=THREADS if cpu_peers else None,
            trials_measured_this_run=outcome.trials_run, tasks=outcome.tasks, per_task=outcome.per_task,
            records_from_earlier_runs=outcome.reused_records, search_s=outcome.search_s,
            library_path=outcome.library_path,
            untuned_latency_s=untuned_s, tuned_latency_s=tuned_s, tuned_samples_s=samples["tuned"],
            speedup=untuned_s / tuned_s,
            peer_samples_s={name: series for name, series in samples.items() if name != "tuned"},
            correct=work.is_correct(error), max_abs_error=error,
            wall_s=wall, llm_s=usage["llm_s"], llm_load_s=usage["llm_load_s"], **split,
            other_s=wall - usage["llm_s"] - usage["llm_load_s"] - sum(split.values()),
            llm=usage["llm"], large_model_call_share=usage["large_model_call_share"], lineages=outcome.lineages,
            history=outcome.history, flops=work.flops, bytes=work.bytes, work_dir=str(config.work_dir),
            warm_start=str(config.warm_start) if config.warm_start else None,
            library=str(library), library_sha256=hashlib.sha256(library.read_bytes()).hexdigest(), **gpu_peers)
    finally:  # a bench runs many tunes in one process: each run's LLMs leave with it
        if team is not None:
            team.close()
    print_summary(report, console)
    return report
