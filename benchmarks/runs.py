"""The tuning runs a benchmark makes: each a `litecoop tune` subprocess (so no search state reaches the timing that
follows), kept with its JSON report beside its work dir so that a rerun of the benchmark resumes."""

import json
import os
import subprocess
import sys
from pathlib import Path


def tune_report(spec: str, budget_s: float, work_dir: Path, *flags: str, cache: Path | None = None) -> dict:
    """The report (a dict) of `litecoop tune --workload spec --time-budget budget_s --work-dir work_dir FLAGS`, run
    unless work_dir.json is already there; with LITECOOP_CACHE=`cache` (its own records store) when given. Raises
    CalledProcessError when the tune fails."""
    report = work_dir.with_suffix(".json")
    if not report.is_file():
        env = {**os.environ, **({"LITECOOP_CACHE": str(cache)} if cache else {})}
        subprocess.run([sys.executable, "-m", "litecoop.cli", "tune", "--workload", spec, "--time-budget",
                        f"{budget_s:g}s", "--work-dir", str(work_dir), "--json", str(report), *flags],
                       check=True, env=env)
    return json.loads(report.read_text())
