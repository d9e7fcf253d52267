"""Resume logs of the benches: one JSON report per finished run, a line each, appended as runs finish."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel


def load_runs(log: Path, read: Callable[[dict, str], Any] = lambda data, where: data) -> list:
    """The finished runs of a resume log, each line's JSON passed through `read(data, "file:line")` (e.g.
    `TuneReport.read`, which raises UserError for a malformed report); none if the log does not exist yet."""
    if not log.exists():
        return []
    return [read(json.loads(line), f"{log}:{number}") for number, line in enumerate(log.read_text().splitlines(), 1)]


def append_run(log: Path, runs: list, report: BaseModel | dict) -> None:
    """Keep a finished run's report (a pydantic model or a JSON-able dict) in memory and in the resume log."""
    runs.append(report)
    line = report.model_dump_json() if isinstance(report, BaseModel) else json.dumps(report, default=float)
    with log.open("a") as stream:
        stream.write(line + "\n")
