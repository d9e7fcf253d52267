"""Resume logs of the benches: one JSON report per finished run, a line each, appended as runs finish."""

from __future__ import annotations

import json
from pathlib import Path


def load_runs(log: Path) -> list[dict]:
    """The finished runs of a resume log (one JSON report per line); none if it does not exist yet."""
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def append_run(log: Path, runs: list[dict], report: dict) -> None:
    """Keep a finished run in memory and in the resume log (one JSON line)."""
    runs.append(report)
    with log.open("a") as stream:
        stream.write(json.dumps(report, default=float) + "\n")
