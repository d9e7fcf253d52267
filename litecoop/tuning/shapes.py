"""Tuning for several input shapes: one tuned build per listed shape set, each seeding the next one's search, and
a build with symbolic dimensions for every other shape; one artifact dispatches a call by its inputs' shapes."""

from __future__ import annotations

import math
from pathlib import Path

from rich.console import Console
from rich.table import Table
from tabulate import tabulate

from litecoop import artifact
from litecoop.errors import TVMError, UserError
from litecoop.report.tune_report import TuneReport, write_json
from litecoop.targets import load_target
from litecoop.tuning.config import TuneConfig
from litecoop.tuning.run import run_tune
from litecoop.workload import Workload, from_torch, shapes


def _label(shape_set: shapes.Shapes) -> str:
    return ",".join("x".join(map(str, shape)) for shape in shape_set)


def _symbolic_build(workload: Workload, shape_sets: list[shapes.Shapes], target):
    """(executable, input specs with -1 for the free dimensions) of the untuned symbolic-shape build; raises
    UserError when torch.export, TVM's importer or TVM's build cannot give one."""
    import tvm

    mod = shapes.symbolic_module(workload.torch_module, workload.inputs, shape_sets)
    try:
        executable = tvm.compile(mod, target=target)
    except TVMError as err:
        raise UserError(f"no build for any shape: {str(err).strip().splitlines()[-1][:200]}") from None
    free = shapes.varying_dims(shape_sets)
    specs = [artifact.InputSpec(name=f"input{i}", dtype=str(x.dtype),
                                shape=[-1 if axis in free[i] else size for axis, size in enumerate(x.shape)])
             for i, x in enumerate(workload.inputs)]
    return executable, specs


def run_tune_shapes(config: TuneConfig, shape_sets: list[shapes.Shapes], workload: Workload,
                    console: Console | None = None) -> list[TuneReport]:
    """Tune `workload` (which must come from a torch module) at each shape set of `shape_sets`, one after the
    other, each for an equal share of `config.trials` and `config.time_budget_s`, in `config.work_dir/shape-I`
    (the records of each seed the next one's search, `--warm-start`; all of them go to the user's store). The
    inputs of a set are the example's where the shapes are the example's, else drawn like them
    (`shapes.inputs_at`). Then one artifact in `config.work_dir/tuned` holds every tuned build and, where
    torch.export and TVM can build one, an untuned build with the varying dimensions symbolic, for any other shape.

    Returns one report per shape set, in order (why there is no build for other shapes, if there is none, is
    printed). Raises UserError for shapes that do not fit the model's inputs, or a workload without a torch
    module."""
    console = console or Console(stderr=True)
    if workload.torch_module is None:
        raise UserError("--shapes needs a model from torch (a zoo model, a kernel, module:function or a torch "
                        "module), not an ONNX file")
    shapes.check(shape_sets, workload.inputs)
    share = {"trials": math.ceil(config.trials / len(shape_sets)) if config.trials else None,
             "time_budget_s": config.time_budget_s / len(shape_sets) if config.time_budget_s else None}
    reports, warm_start = [], config.warm_start
    for i, shape_set in enumerate(shape_sets):
        examples = [x.shape for x in workload.inputs] == [tuple(s) for s in shape_set]
        inputs = workload.inputs if examples else shapes.inputs_at(workload.inputs, shape_set, config.seed + i)
        work = from_torch(f"{workload.name}@{_label(shape_set)}", workload.torch_module, inputs,
                          workload.flops if examples else None, model_type=workload.model_type)
        part = config.model_copy(update={**share, "work_dir": config.work_dir / f"shape-{i}",
                                         "warm_start": warm_start})
        console.print(f"[bold]shape {i + 1}/{len(shape_sets)}: {_label(shape_set)}")
        reports.append(run_tune(part, console, workload=work))
        warm_start = part.work_dir
    fallback = None
    try:
        fallback = _symbolic_build(workload, shape_sets, load_target(config.target))
    except UserError as err:
        console.print(f"[yellow]other shapes than these are refused: {err}")
    artifact.combine(config.work_dir / artifact.ARTIFACT_DIR, [Path(r.artifact) for r in reports], fallback)
    return reports


SHAPES_COLUMNS = ("shapes", "tuned ms", "onnxruntime ms", "best fp32 peer", "peer ms", "tuned / peer", "correct")


def shapes_rows(reports: list[TuneReport]) -> list[tuple[str, ...]]:
    """One row per tuned shape set (SHAPES_COLUMNS): its tuned latency beside onnxruntime's and the best float32
    peer's at that shape (ms), and whether its output was correct."""
    rows = []
    for report in reports:
        peer_s = report.tuned_latency_s / report.tuned_over_best_peer if report.tuned_over_best_peer else None
        rows.append((report.workload.partition("@")[2], f"{report.tuned_latency_s * 1e3:.3f}",
                     f"{report.onnxruntime_latency_s * 1e3:.3f}" if report.onnxruntime_latency_s else "-",
                     report.best_peer or "-", f"{peer_s * 1e3:.3f}" if peer_s else "-",
                     f"{report.tuned_over_best_peer:.2f}" if report.tuned_over_best_peer else "-",
                     "yes" if report.correct else "NO"))
    return rows


def takes_any_shape(manifest: artifact.Manifest) -> bool:
    """Whether the artifact has a build with symbolic dimensions."""
    return any(-1 in spec.shape for build in manifest.builds for spec in build.inputs)


def report_shapes(tuned: artifact.Tuned, json_path: Path | None, console: Console) -> None:
    """Print the `shapes_rows` table of a tune at several shapes and whether its artifact takes other shapes; with
    `json_path`, write each shape's report as JSON-shapeI.json (and plot) and the table as JSON.md."""
    table = Table(title="tuned shapes")
    for column in SHAPES_COLUMNS:
        table.add_column(column)
    for row in shapes_rows(tuned.reports):
        table.add_row(*row)
    console.print(table)
    other = "an untuned build with symbolic dimensions" if takes_any_shape(tuned.manifest) else "refused"
    console.print(f"other shapes: {other}")
    if json_path is None:
        return
    for i, report in enumerate(tuned.reports):
        write_json(report, json_path.with_name(f"{json_path.stem}-shape{i}.json"))
    json_path.with_suffix(".md").write_text(tabulate(shapes_rows(tuned.reports), SHAPES_COLUMNS, tablefmt="github")
                                            + f"\n\nOther shapes: {other}.\n")
