"""Tuning is never thrown away: a per-user store of TVM tuning databases, one per (workload, target),
under `$LITECOOP_CACHE/records/` (default `~/.cache/litecoop/records/`).

A run copies the stored records into its work dir's database before tuning (they seed the search and
compete in the final build) and adds its own records to the store afterwards. The work dir remembers how
many of its records came from the store (`REUSED_FILE`), so that `--resume` counts only its own.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from tvm.s_tir import meta_schedule as ms
from tvm_ffi import structural_hash

from litecoop.errors import UserError
from litecoop.measure.builder_runner import mean_run_s
from litecoop.measure.cost_model import records_by_workload

REUSED_FILE = "records_from_earlier_runs.txt"
DATABASE_FILE = "database_tuning_record.json"  # the records file of a MetaSchedule JSONDatabase's work dir


def store_root() -> Path:
    """$LITECOOP_CACHE/records, or ~/.cache/litecoop/records."""
    return Path(os.environ.get("LITECOOP_CACHE", Path.home() / ".cache" / "litecoop")) / "records"


def cache_dir(workload, target) -> Path:
    """The store's database directory of `workload` (a workloads.Workload) on `target`:
    `<name>-<structural hash of its Relax module>-<target kind>-<hash of the target's attributes>`."""
    name = re.sub(r"[^A-Za-z0-9_.]+", "_", workload.name)
    module_hash = f"{structural_hash(workload.mod) & (2**64 - 1):016x}"
    target_hash = hashlib.sha256(str(target).encode()).hexdigest()[:12]
    return store_root() / f"{name}-{module_hash}-{target.kind.name}-{target_hash}"


def has_database(directory: Path) -> bool:
    """Whether `directory` holds a MetaSchedule JSONDatabase (its records file)."""
    return (directory / DATABASE_FILE).is_file()


def open_database(directory: Path):
    """The existing JSONDatabase in `directory` (MetaSchedule raises if it is incomplete)."""
    return ms.database.JSONDatabase(work_dir=str(directory), allow_missing=False)


def _records(directory: Path) -> list:
    return list(open_database(directory).get_all_tuning_records()) if has_database(directory) else []


def _key(record) -> tuple:
    """(workload structural hash, trace, timings): what makes a record distinct."""
    return str(record.workload.as_json()[0]), str(record.trace.as_json()), tuple(float(t) for t in record.run_secs or ())


def copy_new(source: Path, dest: Path) -> int:
    """Commit every record of the database in `source` that the one in `dest` lacks (same workload, trace
    and timings) to `dest`, creating it if needed; returns how many were copied."""
    have = {_key(r) for r in _records(dest)}
    new = [r for r in _records(source) if _key(r) not in have]
    if new:
        dest.mkdir(parents=True, exist_ok=True)
        database = ms.database.JSONDatabase(work_dir=str(dest))
        for r in new:
            database.commit_tuning_record(ms.database.TuningRecord(
                r.trace, database.commit_workload(r.workload.mod), r.run_secs, r.target, r.args_info))
    return len(new)


def reused_count(work_dir: Path) -> int:
    """How many records of the work dir's database came from the store."""
    path = work_dir / REUSED_FILE
    return int(path.read_text()) if path.is_file() else 0


def own_count(work_dir: Path) -> int:
    """How many records of the work dir's database its own runs measured."""
    path = work_dir / DATABASE_FILE
    lines = sum(1 for line in path.open() if line.strip()) if path.is_file() else 0
    return lines - reused_count(work_dir)


def reuse(store: Path, work_dir: Path) -> int:
    """Copy the store's records that the work dir lacks into its database; returns the work dir's total
    of records from the store."""
    total = reused_count(work_dir) + copy_new(store, work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    (work_dir / REUSED_FILE).write_text(str(total))
    return total


def keep(work_dir: Path, store: Path) -> int:
    """Add the work dir's records that the store lacks to it; returns how many."""
    return copy_new(work_dir, store)


def warm_start_records(db_dir: Path, per_workload: int = 32) -> tuple:
    """The `per_workload` best TuningRecords of each workload in the database in `db_dir`, ordered by
    latency relative to the best of their own workload (best first). Raises UserError without a database."""
    if not has_database(db_dir):
        raise UserError(f"--warm-start: no tuning database in {db_dir}")
    ranked = []
    for group in records_by_workload(open_database(db_dir).get_all_tuning_records()):
        group.sort(key=lambda record: mean_run_s(record.run_secs))
        best_s = mean_run_s(group[0].run_secs)
        ranked += [(mean_run_s(record.run_secs) / best_s, record) for record in group[:per_workload]]
    return tuple(record for _, record in sorted(ranked, key=lambda pair: pair[0]))
