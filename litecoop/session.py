"""One `litecoop tune` run from user options to report: validation, progress bar, measurements."""

from __future__ import annotations

import dataclasses
import hashlib
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from . import peers, timing, tuner, workloads
from .errors import UserError
from .presets import load_preset
from .provenance import provenance
from .report import print_summary
from .strategy import SearchSettings
from .targets import describe, load_rpc_config, load_target

TOLERANCE = 1e-4


def search_settings(preset: str) -> tuple[SearchSettings, int, float]:
    """(tree-search settings, trials per round, run timeout in seconds) from a `search/` preset."""
    spec = dict(load_preset("search", preset))
    per_iter = int(spec.pop("num_trials_per_iter", 16))
    run_timeout_s = float(spec.pop("run_timeout_s", 30))
    try:
        return SearchSettings(**spec), per_iter, run_timeout_s
    except TypeError as err:
        raise UserError(f"search preset '{preset}': {err}") from None


def run_tune(*, workload: str, target_name: str, strategy: str, trials: int, seed: int, work_dir: Path,
             resume: bool, search_preset: str = "default", models_preset: str = "local-cpu", console: Console | None = None,
             measure_peers: bool = True, warm_start: Path | None = None) -> dict:
    """Tune and measure; returns the report dict (keys listed in the README). `warm_start`: a work dir whose
    records (of this or a similar shape) seed the search. Raises UserError on bad input."""
    console = console or Console(stderr=True)
    if trials <= 0:
        raise UserError(f"--trials must be positive, got {trials}")
    if strategy not in tuner.STRATEGIES:
        raise UserError(f"unknown strategy '{strategy}' (choose from {', '.join(tuner.STRATEGIES)})")
    target = load_target(target_name)
    device = tuner.device_of(target)
    rpc_config = load_rpc_config(target_name)
    settings, per_iter, run_timeout_s = search_settings(search_preset)
    warm_records = tuner.warm_start_records(warm_start) if warm_start else ()
    timing.reset()
    start = time.perf_counter()
    work = workloads.load(workload, seed)
    team = tuner.make_team(strategy, models_preset, seed)
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("best {task.fields[best]}"), TimeElapsedColumn(), console=console) as bar:
        task = bar.add_task(f"{work.name} {strategy}", total=trials, best="-")

        def on_batch(count: int, best_s: float) -> None:
            bar.update(task, advance=count, best=f"{best_s * 1e3:.3f} ms")

        outcome = tuner.tune(work, target, strategy, trials, seed, work_dir, resume, settings, per_iter,
                             run_timeout_s, on_batch, team, rpc_config, warm_records)
    args = tuner.device_inputs(work.inputs, device)
    tuned_samples, output = tuner.latency_samples(outcome.executable, args, device)
    tuned_s = float(np.median(tuned_samples))
    library = work_dir / "tuned.so"
    outcome.executable.export_library(str(library))
    untuned_s = float(np.median(tuner.latency_samples(tuner.untuned_executable(work, target), args, device, 3)[0]))
    error = float(np.max(np.abs(output.astype(np.float32) - work.reference)))
    wall = time.perf_counter() - start
    usage = outcome.team.usage_report() if outcome.team else {"llm": {}, "large_model_call_share": 0.0, "llm_s": 0.0,
                                                            "llm_load_s": 0.0}
    split = {f"{k}_s": timing.seconds.get(k, 0.0) for k in ("cost_model", "build", "run")}
    report = {
        "workload": work.name, "workload_spec": workload, "target": describe(target), "target_preset": target_name,
        "strategy": strategy, "trials": trials, "seed": seed,
        "provenance": provenance(search_preset=search_preset, models_preset=models_preset, target_preset=target_name),
        "trials_measured_this_run": outcome.trials_run, "tasks": outcome.tasks,
        "untuned_latency_s": untuned_s, "tuned_latency_s": tuned_s, "tuned_samples_s": tuned_samples, "speedup": untuned_s / tuned_s,
        "correct": bool(error <= TOLERANCE * max(1.0, float(np.max(np.abs(work.reference))))), "max_abs_error": error,
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
    if measure_peers and work.torch_module is not None and workload in workloads.SERVED_MODELS:
        report["torch_latency_s"] = peers.torch_latency_s(work.torch_module, work.inputs, threads=2)
        report["onnxruntime_latency_s"] = peers.onnxruntime_latency_s(work.inputs, threads=2, module=work.torch_module)
    elif measure_peers and work.onnx_path is not None:
        report["onnxruntime_latency_s"] = peers.onnxruntime_latency_s(work.inputs, threads=2, onnx_path=work.onnx_path)
    print_summary(report, console)
    return report
