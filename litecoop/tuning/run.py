"""One tuning run from options to report: validation, progress bar, search, the saved artifact, final timing."""

from __future__ import annotations

import hashlib
import os
import shutil
import time

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from litecoop import artifact, records
from litecoop.build import compiler
from litecoop.build.precision import at_precision
from litecoop.errors import UserError
from litecoop.measure import final, gpu_peers, latency, timing
from litecoop.report.provenance import provenance
from litecoop.report.tune_report import TuneReport, budget, print_summary
from litecoop.search import registry
from litecoop.search.settings import from_preset as search_settings_from_preset
from litecoop.targets import describe, load_rpc_config, load_target
from litecoop.tuning import tuner
from litecoop.tuning.config import TuneConfig
from litecoop.workload import Workload, load

THREADS = int(os.environ["TVM_NUM_THREADS"])  # the peers' intra-op threads: as many as TVM's pool (litecoop/__init__)


def _search(config: TuneConfig, work: Workload, target, console: Console) -> tuner.TuneOutcome:
    """The search with a progress bar; the LLM team (if the strategy has one) is closed when it ends."""
    rpc_config = load_rpc_config(config.target)
    settings = search_settings_from_preset(config.search_preset)
    warm_records = records.warm_start_records(config.warm_start) if config.warm_start else ()
    team = registry.make_team(config.strategy, config.models_preset, config.seed)
    try:
        with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TextColumn("best {task.fields[best]}"), TimeElapsedColumn(), console=console) as bar:
            task = bar.add_task(f"{work.name} {config.strategy} ({budget(config)})", total=config.trials, best="-")

            def on_batch(count: int, best_s: float) -> None:
                bar.update(task, advance=count, best=f"{best_s * 1e3:.3f} ms")

            return tuner.tune(work, target, config, settings, team=team, rpc_config=rpc_config,
                              warm_start=warm_records, cache_dir=records.store_dir(target), on_batch=on_batch)
    finally:  # a bench runs many tunes in one process: each run's LLMs leave with it, before the final timing
        if team is not None:
            team.close()


def run_tune(config: TuneConfig, console: Console | None = None, workload: Workload | None = None,
             fresh_final: bool = True) -> TuneReport:
    """Tune and measure as `config` asks (on `workload` when given, else on `config.workload` loaded); save the
    tuned build as an artifact in `config.work_dir/tuned`; print and return the report.

    The run's records are kept in the user's store (`records.store_dir`: one per target, shared by every
    workload); unless `config.fresh`, the records kept there of this workload's tasks (by earlier runs of any
    workload on this target) seed the search. On a CPU the artifact is timed in a fresh process
    (`measure.final`), with every peer when `config.measure_peers`; with `fresh_final` False (a caller that times
    every run's build together afterwards, as `litecoop bench` does) it is timed in this process. Raises UserError on bad
    input (a preset, workload, target or a precision the target's CPU lacks), when the final build fails, and when
    a reduced-precision build's output strays beyond its tolerance (its artifact is deleted); the records are kept
    in each case."""
    started = time.perf_counter()
    console = console or Console(stderr=True)
    target = load_target(config.target)
    device = latency.device_of(target)
    timing.reset()
    work = at_precision(workload or load(config.workload, config.seed), config.precision, target, config.tolerance)
    outcome = _search(config, work, target, console)
    artifact_dir = artifact.save_executable(
        config.work_dir / artifact.ARTIFACT_DIR, outcome.executable, config.workload, work.inputs, target, THREADS,
        precision=work.precision, records=outcome.trials_run + outcome.reused_records,
        provenance=provenance(search_preset=config.search_preset, models_preset=config.models_preset,
                              target_preset=config.target))
    library = artifact_dir / "tuned-0.so"
    args = latency.device_inputs(work.inputs, device)
    untuned_samples, _ = latency.latency_samples(compiler.untuned_executable(work, target), args, device, 3)
    output = artifact.load(artifact_dir)(*work.inputs) if target.kind.name == "llvm" else latency.run_vm(
        outcome.executable, args, device)[0]
    error = work.max_abs_error(output)
    cuda_peers, fresh_error = {}, None
    if target.kind.name == "llvm" and fresh_final:
        console.print("final timing in a fresh process" + (" against the peers" if config.measure_peers else ""))
        timed = final.cpu_final(work, artifact_dir, config.work_dir / "final", THREADS, config.measure_peers)
        fields, fresh_error = final.report_fields(timed), timed.tuned_fresh_error
    else:
        samples = latency.latency_samples(outcome.executable, args, device, 10)[0]
        fields = {"tuned_latency_s": float(np.median(samples)), "tuned_samples_s": samples}
        if config.measure_peers and target.kind.name != "llvm" and work.torch_module is not None:
            cuda_peers = gpu_peers.torch_cuda_latencies(work.torch_module, work.inputs,
                                                        half=work.precision == "fp16")
    untuned_s = float(np.median(untuned_samples))
    wall = time.perf_counter() - started
    usage = outcome.team.usage_report() if outcome.team else {"llm": {}, "large_model_call_share": 0.0,
                                                            "llm_s": 0.0, "llm_load_s": 0.0}
    split = {f"{k}_s": timing.seconds.get(k, 0.0) for k in ("cost_model", "build", "run")}
    report = TuneReport(
        workload=work.name, workload_spec=config.workload, target=describe(target), target_preset=config.target,
        strategy=config.strategy, trials=config.trials, time_budget_s=config.time_budget_s, seed=config.seed,
        provenance=provenance(search_preset=config.search_preset, models_preset=config.models_preset,
                              target_preset=config.target),
        **fields,
        trials_measured_this_run=outcome.trials_run, tasks=outcome.tasks, per_task=outcome.per_task,
        records_from_earlier_runs=outcome.reused_records, search_s=outcome.search_s,
        untuned_latency_s=untuned_s, speedup=untuned_s / fields["tuned_latency_s"],
        correct=work.is_correct(error) and (fresh_error is None or work.is_correct(fresh_error)),
        max_abs_error=max(error, fresh_error or 0.0), precision=work.precision, tolerance=work.tolerance,
        wall_s=wall, llm_s=usage["llm_s"], llm_load_s=usage["llm_load_s"], **split,
        other_s=wall - usage["llm_s"] - usage["llm_load_s"] - sum(split.values()),
        llm=usage["llm"], large_model_call_share=usage["large_model_call_share"], lineages=outcome.lineages,
        history=outcome.history, flops=work.flops, bytes=work.bytes, work_dir=str(config.work_dir),
        warm_start=str(config.warm_start) if config.warm_start else None, artifact=str(artifact_dir),
        library=str(library), library_sha256=hashlib.sha256(library.read_bytes()).hexdigest(), **cuda_peers)
    print_summary(report, console)
    if work.precision != "fp32" and not report.correct:
        shutil.rmtree(artifact_dir)
        raise UserError(f"the {work.precision} build is refused: its max abs error {report.max_abs_error:.2e} exceeds "
                        f"{work.tolerance:g} x the reference's largest magnitude (--tolerance); its records are kept")
    return report
