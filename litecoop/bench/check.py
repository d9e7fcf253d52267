"""`litecoop check` and `litecoop build`: rebuild tuned workloads from their TVM databases, no search.

`check` compares fresh measurements with a baseline (`litecoop tune --json` output, or a list of them):
a workload fails when its median is slower than the baseline's by more than the tolerance AND a one-sided
Mann-Whitney U test (scipy.stats) on the repeated timings gives p < 0.05 (the SWE-Perf practice).
The fresh build is timed in a fresh process (`measure.final.time_fresh`); when the baseline's saved build (its
artifact) is still there unchanged (same SHA-256), both are timed in alternation there, so machine drift between
the tune and the check cannot fail it; otherwise the fresh timings are compared with the samples stored in the
report. A build whose output differs from torch's on fresh inputs fails too.
"""

from __future__ import annotations

import hashlib
import tempfile
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import NamedTuple

import numpy as np
from rich.console import Console
from rich.table import Table
from scipy.stats import mannwhitneyu

from litecoop.measure import latency
from litecoop import records, workload
from litecoop.build import compiler
from litecoop.artifact import save_executable
from litecoop.errors import UserError
from litecoop.measure.final import time_fresh
from litecoop.report.tune_report import TuneReport
from litecoop.report.provenance import provenance
from litecoop.targets import load_target
from litecoop.tuning.run import THREADS

ALPHA = 0.05


def build_from_database(workload_spec: str, db_dir: Path, target_name: str = "host", seed: int = 0):
    """Compile a workload with the schedules of the database in `db_dir`; returns (workload, executable).
    Raises UserError if the directory holds no database."""
    if not records.has_database(db_dir):
        raise UserError(f"no tuning database in {db_dir}")
    work = workload.load(workload_spec, seed)
    database, target = records.open_database(db_dir), load_target(target_name)
    return work, compiler.compile_tuned(database, work.mod, target)


def build_artifact(workload_spec: str, db_dir: Path, target_name: str, out: Path) -> Path:
    """`litecoop build`: compile a workload with the schedules of the database in `db_dir` and save it as an artifact
    in `out` (a directory that `litecoop.load` opens); returns `out`. Raises UserError if there is no database."""
    work, executable = build_from_database(workload_spec, db_dir, target_name)
    return save_executable(out, executable, workload_spec, work.inputs, load_target(target_name),
                           THREADS, provenance=provenance(target_preset=target_name))


def load_baselines(path: Path) -> list[TuneReport]:
    """One or more `litecoop tune --json` reports. Raises UserError for a missing or malformed file."""
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise UserError(f"cannot read baseline {path}: {err}") from None
    reports = data if isinstance(data, list) else [data]
    if not all(isinstance(report, dict) for report in reports):
        raise UserError(f"{path}: not a `litecoop tune --json` report (nor a list of them)")
    return [TuneReport.read(report, str(path)) for report in reports]


def compare(current: list[float], baseline: list[float], tolerance: float) -> tuple[bool, float, float]:
    """(regressed, ratio of medians current/baseline, one-sided p-value that current is slower)."""
    ratio = float(np.median(current) / np.median(baseline))
    p_value = float(mannwhitneyu(current, baseline, alternative="greater").pvalue)
    return ratio > 1 + tolerance and p_value < ALPHA, ratio, p_value


def baseline_artifact(report: TuneReport) -> Path | None:
    """The baseline's saved build (its artifact directory) if it still loads unchanged (the SHA-256 of its library
    as recorded at tune time), else None."""
    path = Path(report.library)
    if not report.artifact or not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != report.library_sha256:
        return None
    return Path(report.artifact)


def measure_against_baseline(report: TuneReport, repeat: int,
                             out_dir: Path) -> tuple[str, list[float], list[float], float | None, object]:
    """Rebuild the report's workload from its database, save the build in `out_dir` and time it in a fresh process
    (`measure.final.time_fresh`), alternated with the baseline's own saved build when that is still there; on a GPU
    target, in this process. Returns (baseline source, baseline samples, current samples in seconds, the current
    build's max abs error against torch on fresh inputs (None where not checked), workload)."""
    target = load_target(report.target_preset)
    work, executable = build_from_database(report.workload_spec, Path(report.work_dir), report.target_preset,
                                           report.seed)
    if target.kind.name != "llvm":
        device = latency.device_of(target)
        samples, output = latency.latency_samples(executable, latency.device_inputs(work.inputs, device), device, repeat)
        return "stored", report.tuned_samples_s, samples, work.max_abs_error(output), work
    current = save_executable(out_dir / "current", executable, report.workload_spec, work.inputs, target, THREADS)
    baseline = baseline_artifact(report)
    builds = {"current": current} | ({"baseline": baseline} if baseline else {})
    timings = {t.name: t for t in time_fresh(work, builds, out_dir / "contest", THREADS, peers=[], repeat=repeat)}
    error = timings["current"].max_abs_error
    if baseline is None:
        return "stored", report.tuned_samples_s, timings["current"].samples_s, error, work
    return "re-measured", timings["baseline"].samples_s, timings["current"].samples_s, error, work


class Row(NamedTuple):
    """One workload's verdict; latencies are medians in seconds, `baseline` says where they came from."""

    name: str
    baseline: str
    base_s: float
    now_s: float
    ratio: float
    p_value: float
    failed: bool
    correct: bool


def run_check(baseline: Path, tolerance: float, junit: Path | None, repeat: int = 10,
              console: Console | None = None) -> int:
    """Measure every baseline workload again; print a table, write JUnit XML; return 1 on a regression."""
    console = console or Console(stderr=True)
    rows = []
    for index, report in enumerate(load_baselines(baseline)):
        with tempfile.TemporaryDirectory() as tmp:
            source, base, samples, error, work = measure_against_baseline(report, repeat, Path(tmp) / str(index))
        regressed, ratio, p_value = compare(samples, base, tolerance)
        correct = error is not None and work.is_correct(error)
        rows.append(Row(work.name, source, float(np.median(base)), float(np.median(samples)), ratio, p_value,
                        regressed or not correct, correct))
    table = Table(title=f"latency check against {baseline} (tolerance {tolerance:.0%}, alpha {ALPHA})")
    for column in ("workload", "baseline", "baseline ms", "now ms", "now/baseline", "p (slower)", "correct", "verdict"):
        table.add_column(column)
    for row in rows:
        table.add_row(row.name, row.baseline, f"{row.base_s * 1e3:.3f}", f"{row.now_s * 1e3:.3f}", f"{row.ratio:.3f}",
                      f"{row.p_value:.3g}", str(row.correct), "[red]FAIL[/red]" if row.failed else "[green]pass[/green]")
    console.print(table)
    if junit:
        suite = ET.Element("testsuite", name="litecoop.bench.check", tests=str(len(rows)),
                           failures=str(sum(row.failed for row in rows)))
        for row in rows:
            case = ET.SubElement(suite, "testcase", classname="latency", name=row.name, time=f"{row.now_s:.6f}")
            if row.failed:
                ET.SubElement(case, "failure",
                              message=f"{row.ratio:.3f}x baseline latency (p={row.p_value:.3g}), correct={row.correct}")
        junit.parent.mkdir(parents=True, exist_ok=True)
        ET.ElementTree(suite).write(junit, encoding="unicode", xml_declaration=True)
    return 1 if any(row.failed for row in rows) else 0
