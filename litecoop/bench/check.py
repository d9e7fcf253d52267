"""`litecoop check` and `litecoop build`: rebuild tuned workloads from their TVM databases, no search.

`check` compares fresh measurements with a baseline (`litecoop tune --json` output, or a list of them):
a workload fails when its median is slower than the baseline's by more than the tolerance AND a one-sided
Mann-Whitney U test (scipy.stats) on the repeated timings gives p < 0.05 (the SWE-Perf practice).
When the baseline's compiled library is still there unchanged (same SHA-256), both builds are timed in
alternation in this run, so machine drift between the tune and the check cannot fail it; otherwise the
fresh timings are compared with the samples stored in the report.
"""

from __future__ import annotations

import hashlib
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import NamedTuple

import numpy as np
import tvm
from rich.console import Console
from rich.table import Table
from scipy.stats import mannwhitneyu

from litecoop.measure import latency
from litecoop import records, workload
from litecoop.build import compiler
from litecoop.errors import UserError
from litecoop.report.tune_report import TuneReport
from litecoop.targets import load_target

ALPHA = 0.05


def build_from_database(workload_spec: str, db_dir: Path, target_name: str = "host", seed: int = 0):
    """Compile a workload with the schedules of the database in `db_dir`; returns (workload, executable).
    Raises UserError if the directory holds no database."""
    if not records.has_database(db_dir):
        raise UserError(f"no tuning database in {db_dir}")
    work = workload.load(workload_spec, seed)
    database, target = records.open_database(db_dir), load_target(target_name)
    return work, compiler.compile_tuned(database, work.mod, target)


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


def baseline_library(report: TuneReport):
    """The baseline's compiled module if its file still has the SHA-256 recorded at tune time, else None."""
    path = Path(report.library)
    if not report.library or not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != report.library_sha256:
        return None
    return tvm.runtime.load_module(str(path))


def measure_against_baseline(report: TuneReport, repeat: int) -> tuple[str, list[float], list[float], np.ndarray, object]:
    """Rebuild the report's workload from its database and
    time it on its target's device (`latency.device_of`): (baseline source, baseline samples, current samples in seconds, current output, workload)."""
    device = latency.device_of(load_target(report.target_preset))
    work, executable = build_from_database(report.workload_spec, Path(report.work_dir), report.target_preset,
                                           report.seed)
    args = latency.device_inputs(work.inputs, device)
    library = baseline_library(report)
    if library is None:
        samples, output = latency.latency_samples(executable, args, device, repeat)
        return "stored", report.tuned_samples_s, samples, output, work
    (base, samples), (_, output) = latency.interleaved_latency_samples([library, executable], args, device, repeat)
    return "re-measured", base, samples, output, work


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
    for report in load_baselines(baseline):
        source, base, samples, output, work = measure_against_baseline(report, repeat)
        regressed, ratio, p_value = compare(samples, base, tolerance)
        correct = work.is_correct(work.max_abs_error(output))
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
